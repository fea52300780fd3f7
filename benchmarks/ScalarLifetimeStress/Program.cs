using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Runs;
using Distillery.Datasets;
using Distillery.Kernels;
using Distillery.Kip;
using Distillery.Tests.Numerics;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

// Issue 13, kind 5: "ExternalException: Unknown scalar type" at random in long KIP runs. A TorchSharp 0.107 Scalar is a
// raw native pointer with a finalizer; a temporary one (an implicit double → Scalar, or the alpha 1 TorchSharp makes
// inside Tensor.add(Tensor)) is unreachable once its handle is read, so a garbage collection started by another thread
// while libtorch runs can free it under libtorch's feet. This program looks for that under pressure: a thread forcing
// garbage collections (and waiting for finalizers) without pause, and CPU-burning threads that oversubscribe the cores
// so the working thread is preempted inside native calls.
//
//   dotnet run -c Release --project benchmarks/ScalarLifetimeStress -- [mode=all] [seconds=300] [burners=2]
//
// Modes: implicit — the pre-fix pattern of Dense.Apply (x * w + b with implicit Scalars) in a tight loop, every
// result compared with the exact one; held — the same arithmetic with held Scalars (the fix); kip — real KIP steps
// (embedded Fashion-MNIST sample, FC NTK) under pressure, every step's loss compared bit for bit with a run without
// pressure; all — the three in turn, the time split between them.
var mode = args.Length > 0 ? args[0] : "all";
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 300;
var burners = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
set_num_threads(1); // one libtorch thread: deterministic reductions, and the burners take the other cores
Console.WriteLine($"ScalarLifetimeStress: mode {mode}, {seconds:F0} s, {burners} CPU burners, {Environment.ProcessorCount} cores, " +
                  $"DOTNET_GCgen0size={Environment.GetEnvironmentVariable("DOTNET_GCgen0size") ?? "(default)"}");

var modes = mode == "all" ? new[] { "implicit", "held", "kip" } : [mode];
var failures = 0L;
foreach (var m in modes)
{
    var budget = TimeSpan.FromSeconds(seconds / modes.Length);
    var report = m switch
    {
        "implicit" => UnderPressure(burners, () => Arithmetic(budget, held: false)),
        "held" => UnderPressure(burners, () => Arithmetic(budget, held: true)),
        "kip" => Kip(budget, burners),
        _ => throw new ArgumentException($"unknown mode '{m}': implicit, held, kip or all"),
    };
    Console.WriteLine($"{m,-8} {report}");
    failures += report.Failures;
}
Console.WriteLine(failures == 0 ? "result: no failure" : $"result: {failures} failures");
return failures == 0 ? 0 : 1;

// x * w + b on a small tensor, the shape of Dense.Apply's arithmetic, as fast as possible so that many native calls
// are in flight when a collection starts; every result is checked against the exact one.
static Outcome Arithmetic(TimeSpan budget, bool held)
{
    const double w = 2.0, b = 0.01;
    using var x = rand(32, 32, dtype: ScalarType.Float64);
    using var expected = x.mul(w.ToScalar()).add(b.ToScalar(), 1.0.ToScalar()); // temporaries here are harmless: no pressure yet
    using var wScalar = w.ToScalar();
    using var bScalar = b.ToScalar();
    var clock = Stopwatch.StartNew();
    long iterations = 0, errors = 0, wrong = 0;
    var messages = new SortedDictionary<string, int>(StringComparer.Ordinal);
    while (clock.Elapsed < budget)
    {
        using var scope = NewDisposeScope();
        try
        {
            var y = held ? x.mul(wScalar).add(bScalar, HeldScalars.One) : x * w + b;
            if (!y.eq(expected).all().item<bool>()) wrong++;
        }
        catch (ExternalException e)
        {
            errors++;
            var message = e.Message.Split('\n')[0];
            messages[message] = messages.GetValueOrDefault(message) + 1;
        }
        iterations++;
    }
    return new Outcome(iterations, errors, wrong, messages.Count == 0 ? null : string.Join("; ", messages.Select(p => $"{p.Value}× \"{p.Key}\"")));
}

// Real KIP steps (the plugin's code) under pressure, compared with the same steps without it.
static Outcome Kip(TimeSpan budget, int burners)
{
    var context = new RunContext { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance };
    var splits = new FashionMnistSampleDataset().Load(context, new FashionMnistSampleOptions());
    var transform = new StandardizePreprocessor().Fit(context, splits.Train.Images, new StandardizeOptions());
    var train = splits.Train with { Images = transform.Forward(splits.Train.Images) };

    // The reference, without pressure, sets the step count: about a tenth of the budget.
    var timed = RunKip(train, steps: 50);
    var steps = Math.Max(50, (int)(budget.TotalSeconds * 0.9 / (timed.Seconds / 50)));
    var reference = RunKip(train, steps);
    Console.WriteLine($"  kip: {steps} steps of {timed.Seconds / 50 * 1000:F1} ms without pressure");
    KipRun? stressed = null;
    var outcome = UnderPressure(burners, () =>
    {
        try
        {
            stressed = RunKip(train, steps);
            return new Outcome(steps, 0, 0, null);
        }
        catch (ExternalException e)
        {
            return new Outcome(steps, 1, 0, e.Message.Split('\n')[0]);
        }
    });
    if (stressed is null) return outcome;
    var differing = reference.Losses.Zip(stressed.Losses).Count(p => BitConverter.DoubleToInt64Bits(p.First) != BitConverter.DoubleToInt64Bits(p.Second));
    var sameImages = reference.Images.eq(stressed.Images).all().item<bool>();
    return outcome with { Wrong = differing + (sameImages ? 0 : 1), FirstError = differing > 0 || !sameImages ? $"{differing} losses differ; final images {(sameImages ? "equal" : "differ")}" : null };
}

static KipRun RunKip(ImageSet train, int steps)
{
    var recorder = new LossRecorder();
    var clock = Stopwatch.StartNew();
    var run = new DistillationContext
    {
        Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = NullLogger.Instance, Progress = recorder,
        Train = train, Kernel = FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 1 }),
    };
    var support = new KipAlgorithm().Distill(run, new KipOptions
    {
        ImagesPerClass = 10, Steps = steps, LearningRate = 0.04, TargetBatchSize = 500, EvaluationInterval = 0, CheckpointInterval = 0,
    });
    return new KipRun(recorder.Losses, support.Images.DetachFromDisposeScope(), clock.Elapsed.TotalSeconds);
}

// Runs work under GcPressure (tests/Distillery.Tests/Numerics/GcPressure.cs, compiled in).
static Outcome UnderPressure(int burners, Func<Outcome> work)
{
    using var pressure = new GcPressure(burners);
    return work() with { Collections = pressure.Collections };
}

record Outcome(long Iterations, long Errors, long Wrong, string? FirstError, long Collections = 0)
{
    public long Failures => Errors + Wrong;
    public override string ToString() =>
        $"{Iterations:N0} iterations, {Collections:N0} forced collections: {Errors} exceptions, {Wrong} wrong results" +
        (FirstError is null ? "" : $": {FirstError}");
}

record KipRun(List<double> Losses, Tensor Images, double Seconds);

/// <summary>Keeps every step's loss.</summary>
sealed class LossRecorder : IProgressReporter
{
    public List<double> Losses { get; } = [];
    public void Start(string phase, long totalSteps, long firstStep = 0) { }
    public void Report(ProgressUpdate update) { if (update.Loss is { } loss) Losses.Add(loss); }
}
