using System.Diagnostics;
using System.Globalization;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Datasets;
using Distillery.Kernels;
using Distillery.Kernels.RandomFeatures;
using Distillery.Kip;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

// Median KIP step time and peak memory on the full Fashion-MNIST, standardised, 10 images per class, lr 0.04.
//
//   dotnet run -c Release --project benchmarks/KipStepBenchmark -- [steps=200] [dataset folder]
//       the reference configuration of issue 2: FC NTK depth 1, target batch 5,000
//   dotnet run -c Release --project benchmarks/KipStepBenchmark -- convnet-rf [steps=20] [dataset folder] [options]
//       RFAD's setting (issue 9): convnet-rf, 8 networks of width 128 at depth 3, target batch 1,280, timed twice:
//       (a) redrawn at every step, (b) one fixed draw. Options: --redraw perStep|fixed (only that one), --models M,
//       --width W, --depth D, --target T, --train N (a class-balanced subset of N training images, for a quick check),
//       --feature-cache full|float16|bfloat16 (HEAD only), --warm-up K (default 2).
//
// This file compiles against the plugins of commit f9e864b too (benchmarks/kip-step-convnet-rf.sh builds it there), so
// the same harness times the code before and after the batched ensemble and the feature cache: it uses no API newer
// than that commit (the feature-cache storage option is set by name when it exists).
if (args.Length > 0 && args[0] == "convnet-rf") ConvNetRandomFeatures(args[1..]);
else FullyConnected(args);

static void FullyConnected(string[] args)
{
    var steps = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
    var folder = args.Length > 1 ? args[1] : FashionMnistOptions.DefaultPath;
    var train = LoadStandardised(folder);
    var residentBeforeKip = PeakResidentBytes();
    var times = TimeKip(train, FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 1 }), 5000, steps, warmUp: 5, out _);
    Console.WriteLine($"KIP step, FC NTK depth 1, 100 support images, target batch 5000, {get_num_threads()} threads, {times.Length} steps after 5 warm-up:");
    Console.WriteLine($"  median {Quantile(times, 0.5):F4} s   p10 {Quantile(times, 0.1):F4} s   p90 {Quantile(times, 0.9):F4} s");
    Console.WriteLine($"  peak resident memory {PeakResidentBytes() / 1048576.0:F0} MiB (after loading the data: {residentBeforeKip / 1048576.0:F0} MiB)");
}

static void ConvNetRandomFeatures(string[] args)
{
    var positional = args.TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
    var named = args.Skip(positional.Length).Chunk(2).ToDictionary(p => p[0][2..], p => p.Length > 1 ? p[1] : "");
    int Named(string name, int fallback) => named.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
    var steps = positional.Length > 0 ? int.Parse(positional[0], CultureInfo.InvariantCulture) : 20;
    var folder = positional.Length > 1 ? positional[1] : FashionMnistOptions.DefaultPath;
    var (models, width, depth, target, warmUp) = (Named("models", 8), Named("width", 128), Named("depth", 3), Named("target", 1280), Named("warm-up", 2));
    var modes = named.TryGetValue("redraw", out var only) ? [Enum.Parse<RedrawMode>(only, ignoreCase: true)] : new[] { RedrawMode.PerStep, RedrawMode.Fixed };

    var train = LoadStandardised(folder);
    if (named.TryGetValue("train", out var subset))
    {
        using var generator = new TorchSharp.torch.Generator(0, CPU);
        generator.manual_seed(1);
        train = train.Select(train.SampleClassBalanced(int.Parse(subset, CultureInfo.InvariantCulture) / train.ClassCount, generator));
    }
    Console.WriteLine($"KIP step, convnet-rf {models} networks × width {width} × depth {depth}, 100 support images, target batch {target}, " +
                      $"{train.Count} training images, {get_num_threads()} threads, {steps} steps after {warmUp} warm-up:");
    foreach (var mode in modes)
    {
        var options = new ConvNetRandomFeaturesOptions { Models = models, Width = width, Depth = depth, Redraw = mode };
        if (named.TryGetValue("feature-cache", out var storage))
        {
            var property = typeof(ConvNetRandomFeaturesOptions).GetProperty("FeatureCache")
                ?? throw new ArgumentException("--feature-cache: this commit's convnet-rf has no feature cache");
            property.SetValue(options, Enum.Parse(property.PropertyType, storage, ignoreCase: true));
        }
        var run = new RunContext { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance };
        var kernel = new ConvNetRandomFeaturesKernel().Create(run, options);
        var times = TimeKip(train, kernel, target, steps, warmUp, out var first);
        (kernel as IDisposable)?.Dispose();
        Console.WriteLine($"  {(mode == RedrawMode.PerStep ? "(a) redrawn every step" : "(b) fixed draw"),-24} median {Quantile(times, 0.5):F4} s   " +
                          $"p10 {Quantile(times, 0.1):F4} s   p90 {Quantile(times, 0.9):F4} s   first step {first:F2} s (with any one-off work: drawing, caching)");
    }
    Console.WriteLine($"  peak resident memory {PeakResidentBytes() / 1048576.0:F0} MiB");
}

static ImageSet LoadStandardised(string folder)
{
    var context = new RunContext { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance };
    var splits = new FashionMnistDataset().Load(context, new FashionMnistOptions { Path = folder });
    var transform = new StandardizePreprocessor().Fit(context, splits.Train.Images, new StandardizeOptions());
    return splits.Train with { Images = transform.Forward(splits.Train.Images) };
}

/// <summary>Runs KIP for warm-up + steps steps; returns the sorted step times after the warm-up, and the first step's.</summary>
static double[] TimeKip(ImageSet train, IKernelFunction kernel, int targetBatch, int steps, int warmUp, out double first)
{
    var timer = new StepTimer();
    var run = new DistillationContext
    {
        Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance, Progress = timer, Train = train, Kernel = kernel,
    };
    new KipAlgorithm().Distill(run, new KipOptions
    {
        ImagesPerClass = 10, Steps = steps + warmUp, LearningRate = 0.04, TargetBatchSize = targetBatch,
        EvaluationInterval = 0, CheckpointInterval = 0,
    });
    first = timer.Seconds[0];
    return timer.Seconds.Skip(warmUp).Order().ToArray();
}

static double Quantile(double[] sorted, double q) => sorted[(int)Math.Round(q * (sorted.Length - 1))];

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
