using Distillery.Abstractions.Runs;
using Distillery.Kernels.RandomFeatures;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Tests.RandomFeatures;

/// <summary>
/// The random-feature ConvNet as it was computed before the ensemble was batched, kept for the tests only: M networks
/// drawn one after another from one generator (each network's layers in order, weight then bias), each run alone,
/// their flattened features concatenated and scaled by wStd/√(M·F). The batched ensemble must give the same features.
/// </summary>
internal static class NetworkByNetworkReference
{
    /// <summary>Φ(images) [n, M·F] of the kernel's initial draw (run seed → "convnet-rf.init" → draw seed), in the images' dtype.</summary>
    public static Tensor InitialDrawFeatures(RunContext run, ConvNetRandomFeaturesOptions options, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var initial = run.CreateGenerator(ConvNetRandomFeaturesKernel.InitialDrawPurpose);
        var seed = randint(long.MaxValue, new long[] { 1 }, dtype: int64, generator: initial).item<long>();
        using var generator = new Generator(0, CPU);
        generator.manual_seed(seed);
        var perNetwork = new List<Tensor>();
        for (var network = 0; network < options.ResolvedEvaluationModels(); network++)
        {
            var layers = new List<(Tensor Weight, Tensor Bias)>();
            var channels = images.shape[1];
            for (var layer = 0; layer < options.Depth; layer++)
            {
                var weight = randn([options.Width, channels, 3, 3], dtype: images.dtype, generator: generator) * (options.WStd / Math.Sqrt(channels * 9));
                var bias = randn([options.Width], dtype: images.dtype, generator: generator) * options.BStd;
                layers.Add((weight, bias));
                channels = options.Width;
            }
            var hidden = images;
            foreach (var (weight, bias) in layers)
                hidden = nn.functional.avg_pool2d(nn.functional.conv2d(hidden, weight, bias, padding: [1, 1]).relu(), [2, 2], [2, 2]);
            perNetwork.Add(hidden.flatten(1));
        }
        var features = cat(perNetwork, 1);
        return (features * (options.WStd / Math.Sqrt(features.shape[1]))).MoveToOuterDisposeScope();
    }
}
