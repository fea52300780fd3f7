using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

/// <summary>Tiny, easily separable image sets and the contexts the transfer and coreset tests run in.</summary>
internal static class TransferTestData
{
    public const int Classes = 3;

    /// <summary>
    /// 1×8×8 images of three patterns — a bright top-left, top-right or bottom-left quadrant on a dark ground
    /// (±0.5) — plus Gaussian noise, <paramref name="perClass"/> of each, labels interleaved (0, 1, 2, 0, …).
    /// Coarse patterns, so they survive the ConvNet's pooling.
    /// </summary>
    public static ImageSet Patterns(int perClass, int seed, double noise = 0.3)
    {
        var random = new Random(seed);
        var count = perClass * Classes;
        var pixels = new float[count * 64];
        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            var c = i % Classes;
            labels[i] = c;
            for (var y = 0; y < 8; y++)
                for (var x = 0; x < 8; x++)
                {
                    var on = c switch { 0 => y < 4 && x < 4, 1 => y < 4 && x >= 4, _ => y >= 4 && x < 4 };
                    pixels[i * 64 + y * 8 + x] = (float)((on ? 0.5 : -0.5) + noise * Gaussian(random));
                }
        }
        return new ImageSet(tensor(pixels).reshape(count, 1, 8, 8), tensor(labels), ["top-left", "top-right", "bottom-left"]);
    }

    /// <summary>A support set of real images with one-hot minus 1/C targets (what <c>natural</c> returns).</summary>
    public static SupportSet Support(ImageSet images) =>
        new(images.Images, RegressionTargets.Encode(images.Labels, images.ClassCount, ScalarType.Float32, CPU), images.Labels);

    public static EvaluationContext EvaluationRun(SupportSet support, ImageSet test, long seed = 7) => new()
    {
        Device = CPU,
        DType = ScalarType.Float32,
        Seed = seed,
        Logger = NullLogger.Instance,
        Support = support,
        Test = test,
    };

    public static DistillationContext Distillation(ImageSet train, long seed = 7) => new()
    {
        Device = CPU,
        DType = ScalarType.Float32,
        Seed = seed,
        Logger = NullLogger.Instance,
        Train = train,
    };

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1.0 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}

/// <summary>
/// These tests run one after another and apart from every other collection: one asserts that the global
/// generator is left as found, which a test drawing from it in parallel would break. Running alone also lets
/// them train on one intra-op thread (<see cref="OneTorchThread"/>) without slowing anyone else.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TransferCollection : ICollectionFixture<OneTorchThread>
{
    public const string Name = "Transfer (serial)";
}

/// <summary>
/// The networks here are tiny, so every op is mostly thread hand-off: on a busy two-core machine libtorch's
/// spinning workers made this collection take ~170 s instead of ~4 s. One thread while it runs, then restored.
/// </summary>
public sealed class OneTorchThread : IDisposable
{
    private readonly int _previous = get_num_threads();

    public OneTorchThread() => set_num_threads(1);

    public void Dispose() => set_num_threads(_previous);
}
