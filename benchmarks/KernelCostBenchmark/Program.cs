using System.Diagnostics;
using System.Globalization;
using Distillery.Abstractions.Runs;
using Distillery.Kernels;
using Distillery.Kernels.RandomFeatures;
using Distillery.Kernels.Reference;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

// CPU time per kernel entry of the exact ConvNet NTK (depth 3, avg pool, flatten, float32, default block of 9 image
// pairs) at growing image sizes: the previous path over all pixel pairs (FullPixelPairKernel, on a small n × n
// kernel: it costs the same per entry at any n) against the current one (Serial over a band of pixel pairs, on a
// larger n × n kernel, since its per-image work is done once per Compute), and CPU time per image of the
// random-feature kernel's features. CPU time (not wall time) so that the figure holds on a loaded machine; the thread
// count is printed. Each exact measurement runs in a child process of its own, so that its peak resident memory is
// its own.
// Usage: dotnet run -c Release --project benchmarks/KernelCostBenchmark -- [old n=3] [new n=16]
//        (child: -- measure old|new <channels> <size> <n>)
if (args is ["measure", var path, var c, var s, var count])
{
    Console.WriteLine(MeasureExact(path, int.Parse(c, CultureInfo.InvariantCulture), int.Parse(s, CultureInfo.InvariantCulture), int.Parse(count, CultureInfo.InvariantCulture)));
    return;
}
var oldSide = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var newSide = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 16;
(int Channels, int Size)[] shapes = [(1, 8), (1, 16), (1, 28), (3, 32)];
var run = new RunContext { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance };
Console.WriteLine($"{get_num_threads()} torch threads; exact ConvNet NTK depth 3: old (all pixel pairs) on {oldSide}×{oldSide} images, " +
                  $"new (band) on {newSide}×{newSide}; convnet-rf features of 200 images");
Console.WriteLine("shape       old: CPU ms/entry  peak RSS | new: CPU ms/entry  peak RSS | old/new |  convnet-rf CPU ms/image: 1×64    8×128");
foreach (var (channels, size) in shapes)
{
    var (oldMs, oldPeak) = Child("old", channels, size, oldSide);
    var (newMs, newPeak) = Child("new", channels, size, newSide);
    using var scope = NewDisposeScope();
    var images = randn(200, channels, size, size, generator: new Generator(2, CPU));
    var rfSmall = RandomFeatureCost(new ConvNetRandomFeaturesOptions { Models = 1, Width = 64 }, images);
    var rfLarge = RandomFeatureCost(new ConvNetRandomFeaturesOptions { Models = 8, Width = 128 }, images);
    Console.WriteLine($"{$"{channels}×{size}×{size}",-11} {oldMs,17:F2} {oldPeak,5:F0} MiB | {newMs,17:F3} {newPeak,5:F0} MiB | {oldMs / newMs,6:F1}× |  " +
                      $"{rfSmall * 1000,29:F3} {rfLarge * 1000,8:F3}");
}

(double Ms, double PeakMiB) Child(string path, int channels, int size, int n)
{
    var self = Environment.ProcessPath!;
    var start = new ProcessStartInfo(self) { RedirectStandardOutput = true };
    if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(System.Reflection.Assembly.GetEntryAssembly()!.Location); // run as "dotnet KernelCostBenchmark.dll"
    foreach (var argument in new[] { "measure", path, $"{channels}", $"{size}", $"{n}" }) start.ArgumentList.Add(argument);
    using var child = Process.Start(start)!;
    var line = child.StandardOutput.ReadToEnd().Trim().Split('\n')[^1].Split(' ');
    child.WaitForExit();
    return (double.Parse(line[0], CultureInfo.InvariantCulture), double.Parse(line[1], CultureInfo.InvariantCulture));
}

// "<CPU ms per entry> <peak resident MiB>" for an n × n kernel, after a 1 × 1 warm-up.
static string MeasureExact(string path, int channels, int size, int n)
{
    var options = new ConvNetKernelOptions { Depth = 3 };
    var kernel = ConvNetKernel.Build(options);
    Func<Tensor, Tensor, Tensor> compute = path == "old" ? new FullPixelPairKernel(kernel).Compute : kernel.Compute;
    using var _ = no_grad();
    var generator = new Generator(1, CPU);
    var a = randn(n, channels, size, size, generator: generator);
    var b = randn(n, channels, size, size, generator: generator);
    compute(a.narrow(0, 0, 1), b.narrow(0, 0, 1)).Dispose(); // warm-up
    var (cpu, _) = Measure(() => { using var scope = NewDisposeScope(); compute(a, b); });
    using var process = Process.GetCurrentProcess();
    return string.Create(CultureInfo.InvariantCulture, $"{cpu / (n * n) * 1000:F4} {process.PeakWorkingSet64 / 1048576.0:F0}");
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
