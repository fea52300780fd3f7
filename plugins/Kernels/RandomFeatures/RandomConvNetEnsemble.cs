using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.RandomFeatures;

/// <summary>
/// M random, untrained finite networks of one description (<see cref="RandomFeatureNetwork"/>: [Conv k×k SAME → ReLU →
/// (AvgPool)] blocks → Flatten | GlobalAvgPool; weights ~ N(0, W_std²/fan_in), biases ~ N(0, b_std²), fan_in =
/// channels·k², as RFAD, Loo et al. 2022 — the NTK-parameterised network's function at init), held as one stacked
/// network: block l's weights of all M networks in one tensor [M·width_l, C_l, k, k] (network-major), so a whole draw is
/// one set of tensors that a redraw replaces. The forward pass runs the networks one after another over views of that
/// stack, which measured fastest here (see <see cref="BlockFeatures"/>); with no blocks each network is the identity.
/// Their joint feature map is Φ(x) = W_std · [f₁(x), …, f_M(x)] / √(M·F) (F features per network, W_std the readout
/// Dense's), scaled so that Φ(x)·Φ(x′) + b_std² is the readout Dense layer's covariance averaged over the ensemble: the
/// NNGP's "Flatten → Dense" (or "GlobalAvgPool → Dense") estimate.
/// </summary>
/// <remarks>
/// The draw is the network-by-network one of earlier versions, bit for bit: network 1's layers in order (weight, then
/// bias), then network 2's, …, all from one generator seeded with the draw's seed; the per-network tensors are then
/// stacked along the output channels. So a seed gives the same networks as before and a larger ensemble from the same
/// seed extends a smaller one.
/// </remarks>
internal sealed class RandomConvNetEnsemble : IDisposable
{
    private readonly Architecture architecture;
    private readonly RandomFeatureNetwork network;
    private readonly int blockSize;
    private readonly int models;
    private readonly Tensor[] weights; // block l: [M·width_l, C_l, k, k], C_0 = input channels, else width_(l−1)
    private readonly Tensor[] biases;  // block l: [M·width_l]

    /// <summary>
    /// Draws M = <paramref name="models"/> networks of <paramref name="network"/> (the random-feature form of
    /// <paramref name="architecture"/>) on the CPU from <paramref name="seed"/>,
    /// then moves them to <paramref name="device"/>; <see cref="Features"/> runs <paramref name="blockSize"/> images at a time.
    /// </summary>
    public RandomConvNetEnsemble(Architecture architecture, RandomFeatureNetwork network, int blockSize, int models, long seed, long inputChannels,
                                 ScalarType dtype, Device device)
    {
        this.architecture = architecture;
        this.network = network;
        this.blockSize = blockSize;
        this.models = models;
        Seed = seed;
        InputChannels = inputChannels;
        DType = dtype;
        Device = device;
        using var scope = NewDisposeScope();
        using var generator = new Generator(0, CPU);
        generator.manual_seed(seed);
        var blocks = network.Blocks;
        var perLayerWeights = blocks.Select(_ => new List<Tensor>()).ToArray();
        var perLayerBiases = blocks.Select(_ => new List<Tensor>()).ToArray();
        for (var member = 0; member < models; member++)
        {
            var channels = inputChannels;
            for (var layer = 0; layer < blocks.Count; layer++)
            {
                var conv = blocks[layer].Conv;
                var size = conv.FilterSize;
                perLayerWeights[layer].Add(Normal([conv.Channels, channels, size, size], conv.WeightStd / Math.Sqrt(channels * size * size), generator, dtype));
                perLayerBiases[layer].Add(Normal([conv.Channels], conv.BiasStd, generator, dtype));
                channels = conv.Channels;
            }
        }
        // Detached from every dispose scope: the networks outlive the KIP step whose scope drew them.
        weights = perLayerWeights.Select(layer => cat(layer, 0).to(device).DetachFromDisposeScope()).ToArray();
        biases = perLayerBiases.Select(layer => cat(layer, 0).to(device).DetachFromDisposeScope()).ToArray();
    }

    /// <summary>The seed the networks were drawn from.</summary>
    public long Seed { get; }

    /// <summary>Channels of the images the networks take.</summary>
    public long InputChannels { get; }

    /// <summary>The dtype of the weights.</summary>
    public ScalarType DType { get; }

    /// <summary>Where the weights live.</summary>
    public Device Device { get; }

    /// <summary>Whether this is the draw of (<paramref name="seed"/>, <paramref name="models"/>) for <paramref name="images"/>' channels, dtype and device.</summary>
    public bool Matches(long seed, int models, Tensor images) =>
        Seed == seed && this.models == models && InputChannels == images.shape[1] && DType == images.dtype && SameDevice(Device, images);

    /// <summary>Whether <paramref name="images"/> live on <paramref name="device"/> (index −1 and 0 are the same device).</summary>
    public static bool SameDevice(Device device, Tensor images) =>
        device.type == images.device_type && (device.index < 0 ? 0 : device.index) == (images.device_index < 0 ? 0 : images.device_index);

    /// <summary>
    /// Φ(images) [n, M·F] for images [n, C, H, W], computed in blocks of at most <c>blockSize</c> images — on the CPU
    /// fewer, so that no activation of a block exceeds <see cref="CpuBlocks.ActivationBytes"/> (glibc would map it afresh
    /// at every step). Each image's features are its own, so blocking does not change them. The caller owns the result.
    /// </summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        var perBlock = CpuBlocks.Examples(architecture.LargestActivation(FeatureShape.OfBatch(images.shape)), images.dtype, images.device_type, blockSize);
        var blocks = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += perBlock)
            blocks.Add(BlockFeatures(images.narrow(0, start, Math.Min(perBlock, images.shape[0] - start))));
        return (blocks.Count == 1 ? blocks[0] : cat(blocks, 0)).MoveToOuterDisposeScope();
    }

    private Tensor BlockFeatures(Tensor images)
    {
        using var scope = NewDisposeScope();
        // Network by network over the stacked layers (views, no copies). Measured on this CPU build of libtorch (2 cores,
        // AVX2, one thread; 8 networks × width 128 × depth 3, 28×28): one grouped convolution per layer was 10–20% slower
        // than M ordinary ones, forward and backward, and one first-layer convolution with M·width channels no faster —
        // while it holds M times the activations at full resolution (500 × 1,024 × 28 × 28 floats = 1.6 GB per block).
        var perNetwork = new Tensor[models];
        for (var member = 0; member < models; member++)
        {
            using var networkScope = NewDisposeScope();
            var hidden = images;
            for (var layer = 0; layer < weights.Length; layer++)
            {
                var (conv, pool) = network.Blocks[layer];
                var weight = weights[layer].narrow(0, member * conv.Channels, conv.Channels);
                var bias = biases[layer].narrow(0, member * conv.Channels, conv.Channels);
                // In place ReLU: conv2d's backward needs only its input, and the first layer's full-resolution
                // activations are what bounds memory on a CPU. Each layer's input is freed by the scope as soon as
                // nothing (autograd included) holds it.
                hidden = nn.functional.conv2d(hidden, weight, bias, padding: [conv.FilterSize / 2, conv.FilterSize / 2]).relu_();
                if (pool is not null) hidden = nn.functional.avg_pool2d(hidden, [pool.Window, pool.Window], [pool.Stride, pool.Stride]);
            }
            perNetwork[member] = (network.GlobalPool ? hidden.mean([2, 3]) : hidden.flatten(1)).MoveToOuterDisposeScope();
        }
        var features = models == 1 ? perNetwork[0] : cat(perNetwork, 1);
        using var scale = (network.Readout.WeightStd / Math.Sqrt(features.shape[1])).ToScalar(); // √(M·F): held (see HeldScalars)
        return features.mul(scale).MoveToOuterDisposeScope();
    }

    private static Tensor Normal(long[] shape, double std, Generator generator, ScalarType dtype)
    {
        using var scale = std.ToScalar(); // held for the native call (see HeldScalars)
        return randn(shape, dtype: dtype, device: CPU, generator: generator).mul_(scale);
    }

    /// <summary>Frees the stacked weights and biases.</summary>
    public void Dispose()
    {
        foreach (var tensor in weights.Concat(biases)) tensor.Dispose();
    }
}
