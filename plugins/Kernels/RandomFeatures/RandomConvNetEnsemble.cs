using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.RandomFeatures;

/// <summary>
/// M random, untrained ConvNets [Conv3×3 SAME → ReLU → AvgPool2×2] × depth → Flatten (weights ~ N(0, wStd²/fan_in),
/// biases ~ N(0, bStd²), fan_in = channels·9, as RFAD, Loo et al. 2022), held as one stacked network: layer l's
/// weights of all M networks in one tensor [M·width, C_l, 3, 3] (network-major), so a whole draw is one set of tensors
/// that a redraw replaces. The forward pass runs the networks one after another over views of that stack, which
/// measured fastest here (see <see cref="BlockFeatures"/>); with depth 0 each network is the identity.
/// Their joint feature map is Φ(x) = wStd · [f₁(x), …, f_M(x)] / √(M·F) (F features per network), scaled so that
/// Φ(x)·Φ(x′) + bStd² is the readout Dense layer's covariance averaged over the ensemble: the NNGP's
/// "Flatten → Dense" estimate.
/// </summary>
/// <remarks>
/// The draw is the network-by-network one of earlier versions, bit for bit: network 1's layers in order (weight, then
/// bias), then network 2's, …, all from one generator seeded with the draw's seed; the per-network tensors are then
/// stacked along the output channels. So a seed gives the same networks as before and a larger ensemble from the same
/// seed extends a smaller one.
/// </remarks>
internal sealed class RandomConvNetEnsemble : IDisposable
{
    private readonly ConvNetRandomFeaturesOptions options;
    private readonly int models;
    private readonly Tensor[] weights; // layer l: [M·width, C_l, 3, 3], C_0 = input channels, else width
    private readonly Tensor[] biases;  // layer l: [M·width]

    /// <summary>Draws M = <paramref name="models"/> networks on the CPU from <paramref name="seed"/>, then moves them to <paramref name="device"/>.</summary>
    public RandomConvNetEnsemble(ConvNetRandomFeaturesOptions options, int models, long seed, long inputChannels, ScalarType dtype, Device device)
    {
        this.options = options;
        this.models = models;
        Seed = seed;
        InputChannels = inputChannels;
        DType = dtype;
        Device = device;
        using var scope = NewDisposeScope();
        using var generator = new Generator(0, CPU);
        generator.manual_seed(seed);
        var perLayerWeights = Enumerable.Range(0, options.Depth).Select(_ => new List<Tensor>()).ToArray();
        var perLayerBiases = Enumerable.Range(0, options.Depth).Select(_ => new List<Tensor>()).ToArray();
        for (var network = 0; network < models; network++)
        {
            var channels = inputChannels;
            for (var layer = 0; layer < options.Depth; layer++)
            {
                perLayerWeights[layer].Add(Normal([options.Width, channels, 3, 3], options.WStd / Math.Sqrt(channels * 9), generator, dtype));
                perLayerBiases[layer].Add(Normal([options.Width], options.BStd, generator, dtype));
                channels = options.Width;
            }
        }
        // Detached from every dispose scope: the networks outlive the KIP step whose scope drew them.
        weights = perLayerWeights.Select(layer => cat(layer, 0).to(device).DetachFromDisposeScope()).ToArray();
        biases = perLayerBiases.Select(layer => cat(layer, 0).to(device).DetachFromDisposeScope()).ToArray();
    }

    public long Seed { get; }
    public long InputChannels { get; }
    public ScalarType DType { get; }
    public Device Device { get; }

    public bool Matches(long seed, int models, Tensor images) =>
        Seed == seed && this.models == models && InputChannels == images.shape[1] && DType == images.dtype && SameDevice(Device, images);

    public static bool SameDevice(Device device, Tensor images) =>
        device.type == images.device_type && (device.index < 0 ? 0 : device.index) == (images.device_index < 0 ? 0 : images.device_index);

    /// <summary>Φ(images) [n, M·F] for images [n, C, H, W], computed <see cref="ConvNetRandomFeaturesOptions.BlockSize"/> images at a time.</summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        var blocks = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += options.BlockSize)
            blocks.Add(BlockFeatures(images.narrow(0, start, Math.Min(options.BlockSize, images.shape[0] - start))));
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
        for (var network = 0; network < models; network++)
        {
            using var networkScope = NewDisposeScope();
            var hidden = images;
            for (var layer = 0; layer < weights.Length; layer++)
            {
                var weight = weights[layer].narrow(0, network * options.Width, options.Width);
                var bias = biases[layer].narrow(0, network * options.Width, options.Width);
                // In place ReLU: conv2d's backward needs only its input, and the first layer's full-resolution
                // activations are what bounds memory on a CPU. Each layer's input is freed by the scope as soon as
                // nothing (autograd included) holds it.
                hidden = nn.functional.conv2d(hidden, weight, bias, padding: [1, 1]).relu_();
                hidden = nn.functional.avg_pool2d(hidden, [2, 2], [2, 2]);
            }
            perNetwork[network] = hidden.flatten(1).MoveToOuterDisposeScope();
        }
        var features = models == 1 ? perNetwork[0] : cat(perNetwork, 1);
        using var scale = (options.WStd / Math.Sqrt(features.shape[1])).ToScalar(); // √(M·F): held (see HeldScalars)
        return features.mul(scale).MoveToOuterDisposeScope();
    }

    private static Tensor Normal(long[] shape, double std, Generator generator, ScalarType dtype)
    {
        using var scale = std.ToScalar(); // held for the native call (see HeldScalars)
        return randn(shape, dtype: dtype, device: CPU, generator: generator).mul_(scale);
    }

    public void Dispose()
    {
        foreach (var tensor in weights.Concat(biases)) tensor.Dispose();
    }
}
