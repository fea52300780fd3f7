using System.Diagnostics;
using System.Globalization;
using Distillery.Abstractions.Runs;
using Distillery.Kernels;
using Distillery.Kernels.RandomFeatures;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

// CPU time per kernel entry of the exact ConvNet NTK (depth 3, avg pool, float32, default block of 9 image pairs)
// at growing image sizes, and CPU time per image of the random-feature kernel's features at the same sizes.
// CPU time (not wall time) so that the figure holds on a loaded machine; the thread count is printed.
// Usage: dotnet run -c Release --project benchmarks/KernelCostBenchmark -- [images per side of the exact block=3]
var side = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
(int Channels, int Size)[] shapes = [(1, 8), (1, 16), (1, 28), (3, 32)];
var exact = ConvNetKernel.Build(new ConvNetKernelOptions { Depth = 3 });
var run = new RunContext { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance };
Console.WriteLine($"{get_num_threads()} torch threads; exact ConvNet NTK depth 3 on {side}×{side} image pairs; convnet-rf features of 200 images");
Console.WriteLine("shape       exact: CPU ms/entry (growth)  wall ms/entry  peak RSS  |  convnet-rf CPU ms/image: 1×64    8×128");
double? previous = null;
foreach (var (channels, size) in shapes)
{
    using var scope = NewDisposeScope();
    var generator = new TorchSharp.torch.Generator(1, CPU);
    var a = randn(side, channels, size, size, generator: generator);
    var b = randn(side, channels, size, size, generator: generator);
    exact.Compute(a.narrow(0, 0, 1), b.narrow(0, 0, 1)); // warm-up
    var (cpu, wall) = Measure(() => { using var _ = no_grad(); exact.Compute(a, b); });
    var perEntry = cpu / (side * side);
    var images = randn(200, channels, size, size, generator: generator);
    var rfSmall = RandomFeatureCost(new ConvNetRandomFeaturesOptions { Models = 1, Width = 64 }, images);
    var rfLarge = RandomFeatureCost(new ConvNetRandomFeaturesOptions { Models = 8, Width = 128 }, images);
    var growth = previous is { } p ? $"({perEntry / p:F1}×)" : "";
    Console.WriteLine($"{$"{channels}×{size}×{size}",-11} {perEntry * 1000,17:F2} {growth,8} {wall / (side * side) * 1000,14:F2} {PeakResidentMiB(),6:F0} MiB  |  " +
                      $"{rfSmall * 1000,29:F3} {rfLarge * 1000,8:F3}");
    previous = perEntry;
}

double RandomFeatureCost(ConvNetRandomFeaturesOptions options, Tensor images)
{
    using var generator = run.CreateGenerator("benchmark");
    var kernel = new RandomFeatureKernel(options, generator, CPU, ScalarType.Float32);
    using var _ = no_grad();
    kernel.Compute(images.narrow(0, 0, 2), images.narrow(0, 0, 2)); // draws the networks
    var (cpu, _) = Measure(() => kernel.Compute(images, images));
    kernel.Dispose();
    return cpu / images.shape[0];
}

static (double CpuSeconds, double WallSeconds) Measure(Action action)
{
    var process = Process.GetCurrentProcess();
    var cpuBefore = process.TotalProcessorTime;
    var wall = Stopwatch.StartNew();
    action();
    process.Refresh();
    return ((process.TotalProcessorTime - cpuBefore).TotalSeconds, wall.Elapsed.TotalSeconds);
}

static double PeakResidentMiB()
{
    using var process = Process.GetCurrentProcess();
    return process.PeakWorkingSet64 / 1048576.0;
}
