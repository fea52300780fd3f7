using Distillery.Abstractions.Architectures;

namespace Distillery.Kernels.RandomFeatures;

/// <summary>
/// One conv block of the random networks: Conv(FilterSize², Channels, W_std, b_std) → ReLU → (AvgPool).
/// </summary>
/// <param name="Conv">The block's convolution (its channels are the width of every random network at this block).</param>
/// <param name="Pool">The pool closing the block, or null for none.</param>
public sealed record RandomFeatureBlock(Layer.Conv Conv, Layer.AvgPool? Pool);

/// <summary>
/// A network description in the form the batched random-feature ensemble runs (<see cref="RandomConvNetEnsemble"/>):
/// [Conv → Relu → (AvgPool)] blocks, then Flatten or GlobalAvgPool, then the Dense readout, whose W_std and b_std scale
/// the features and give the bias term (Φ(x)·Φ(x′) + b_std² is the readout's covariance given the last hidden layer).
/// The readout itself is never drawn: the features are the last hidden layer's outputs.
/// </summary>
/// <param name="Blocks">The conv blocks, in order.</param>
/// <param name="GlobalPool">True for a GlobalAvgPool readout (features: each channel's mean), false for Flatten.</param>
/// <param name="Readout">The final Dense.</param>
public sealed record RandomFeatureNetwork(IReadOnlyList<RandomFeatureBlock> Blocks, bool GlobalPool, Layer.Dense Readout)
{
    /// <summary>The random-feature form of <paramref name="architecture"/>.</summary>
    /// <exception cref="ArchitectureException">The description is not of that form; the message names the first layer
    /// that breaks it (instance norm, for one: the estimate is of the NNGP, which has none here).</exception>
    public static RandomFeatureNetwork From(Architecture architecture)
    {
        var layers = architecture.Layers;
        ArchitectureException Unsupported(int i, string why) => new(
            $"layer {i + 1} of {architecture}: {why}; the random-feature estimate runs [Conv → Relu → (AvgPool)] blocks, then Flatten or GlobalAvgPool, then one Dense");
        var blocks = new List<RandomFeatureBlock>();
        var at = 0;
        while (at < layers.Count && layers[at] is Layer.Conv conv)
        {
            if (at + 1 >= layers.Count || layers[at + 1] is not Layer.Relu)
                throw Unsupported(at + 1, layers.ElementAtOrDefault(at + 1) is Layer.InstanceNorm
                    ? "InstanceNorm has no infinite-width kernel for random features to estimate"
                    : "a Conv must be followed by Relu");
            var pool = at + 2 < layers.Count ? layers[at + 2] as Layer.AvgPool : null;
            blocks.Add(new RandomFeatureBlock(conv, pool));
            at += pool is null ? 2 : 3;
        }
        if (at >= layers.Count || layers[at] is not (Layer.Flatten or Layer.GlobalAvgPool))
            throw Unsupported(Math.Min(at, layers.Count - 1), $"expected Flatten or GlobalAvgPool here, got {layers.ElementAtOrDefault(at)?.ToString() ?? "nothing"}");
        if (at + 2 != layers.Count || layers[at + 1] is not Layer.Dense readout)
            throw Unsupported(Math.Min(at + 1, layers.Count - 1), "expected exactly one Dense, the readout, after it");
        return new RandomFeatureNetwork(blocks, layers[at] is Layer.GlobalAvgPool, readout);
    }
}
