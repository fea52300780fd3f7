using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.RandomFeatures;

/// <summary>
/// One random, untrained ConvNet: [Conv3×3 SAME → ReLU → AvgPool2×2] × depth → Flatten, with weights
/// ~ N(0, wStd²/fan_in) and biases ~ N(0, bStd²). Its pre-activations have, as width → ∞, exactly the
/// covariance of the infinite network's NNGP layers (fan_in = channels·9 matches the mean over the 3×3 offsets).
/// Plain tensors rather than modules: a redraw just replaces them.
/// </summary>
internal sealed class RandomConvNet : IDisposable
{
    private readonly Tensor[] weights;
    private readonly Tensor[] biases;

    private RandomConvNet(Tensor[] weights, Tensor[] biases)
    {
        this.weights = weights;
        this.biases = biases;
    }

    /// <summary>Draws the layers in order from <paramref name="generator"/> (CPU), then moves them to the device.</summary>
    public static RandomConvNet Draw(ConvNetRandomFeaturesOptions options, long inputChannels, Generator generator,
                                     ScalarType dtype, Device device)
    {
        var weights = new Tensor[options.Depth];
        var biases = new Tensor[options.Depth];
        var channels = inputChannels;
        for (var layer = 0; layer < options.Depth; layer++)
        {
            var fanIn = channels * 9;
            weights[layer] = Normal([options.Width, channels, 3, 3], options.WStd / Math.Sqrt(fanIn), generator, dtype, device);
            biases[layer] = Normal([options.Width], options.BStd, generator, dtype, device);
            channels = options.Width;
        }
        return new RandomConvNet(weights, biases);
    }

    /// <summary>The flattened last-hidden-layer outputs [n, features] of images [n, C, H, W].</summary>
    public Tensor Features(Tensor images)
    {
        // Free each layer's activations as soon as the next exists (autograd keeps what backward needs):
        // otherwise a block's full-resolution activations of all M networks would be alive at once.
        using var scope = NewDisposeScope();
        var hidden = images;
        for (var layer = 0; layer < weights.Length; layer++)
        {
            // In place: conv2d's backward needs only its input, and the first layer's full-resolution
            // activations (width × H × W per image) are what bounds speed and memory on a CPU.
            hidden = nn.functional.conv2d(hidden, weights[layer], biases[layer], padding: [1, 1]).relu_();
            hidden = nn.functional.avg_pool2d(hidden, [2, 2], [2, 2]);
        }
        return hidden.flatten(1).MoveToOuterDisposeScope();
    }

    private static Tensor Normal(long[] shape, double std, Generator generator, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        using var scale = std.ToScalar(); // held for the native call (see HeldScalars)
        var drawn = randn(shape, dtype: dtype, device: CPU, generator: generator).mul_(scale).to(device);
        // Detached from every dispose scope: the networks outlive the KIP step whose scope drew them.
        return drawn.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        foreach (var tensor in weights.Concat(biases)) tensor.Dispose();
    }
}
