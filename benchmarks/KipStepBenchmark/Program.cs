using System.Diagnostics;
using System.Globalization;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Distillery.Datasets;
using Distillery.Kernels;
using Distillery.Kip;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

// Median KIP step time and peak memory for the reference configuration of issue 2:
// full Fashion-MNIST, standardised, FC NTK depth 1, 10 images per class, target batch 5,000, lr 0.04.
// Usage: dotnet run -c Release --project benchmarks/KipStepBenchmark -- [steps=200] [dataset folder]
var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var folder = args.Length > 1 ? args[1] : FashionMnistOptions.DefaultPath;
const int warmUp = 5;

var context = new RunContext { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance };
var splits = new FashionMnistDataset().Load(context, new FashionMnistOptions { Path = folder });
var transform = new StandardizePreprocessor().Fit(context, splits.Train.Images, new StandardizeOptions());
var train = splits.Train with { Images = transform.Forward(splits.Train.Images) };
var residentBeforeKip = PeakResidentBytes();

var timer = new StepTimer();
var run = new DistillationContext
{
    Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance, Progress = timer,
    Train = train, Kernel = FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 1 }),
};
new KipAlgorithm().Distill(run, new KipOptions
{
    ImagesPerClass = 10, Steps = steps + warmUp, LearningRate = 0.04, TargetBatchSize = 5000,
    EvaluationInterval = 0, CheckpointInterval = 0,
});

var times = timer.Seconds.Skip(warmUp).Order().ToArray();
double Quantile(double q) => times[(int)Math.Round(q * (times.Length - 1))];
Console.WriteLine($"KIP step, FC NTK depth 1, 100 support images, target batch 5000, {get_num_threads()} threads, {times.Length} steps after {warmUp} warm-up:");
Console.WriteLine($"  median {Quantile(0.5):F4} s   p10 {Quantile(0.1):F4} s   p90 {Quantile(0.9):F4} s");
Console.WriteLine($"  peak resident memory {PeakResidentBytes() / 1048576.0:F0} MiB (after loading the data: {residentBeforeKip / 1048576.0:F0} MiB)");

static long PeakResidentBytes()
{
    using var process = Process.GetCurrentProcess();
    return process.PeakWorkingSet64;
}

/// <summary>Records the wall time between consecutive progress reports, i.e. of each step.</summary>
sealed class StepTimer : IProgressReporter
{
    private readonly Stopwatch _clock = new();
    public List<double> Seconds { get; } = [];
    public void Start(string phase, long totalSteps, long firstStep = 0) => _clock.Restart();
    public void Report(ProgressUpdate update)
    {
        Seconds.Add(_clock.Elapsed.TotalSeconds);
        _clock.Restart();
    }
}
