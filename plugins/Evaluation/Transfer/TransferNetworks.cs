using Distillery.Abstractions;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// Builds the finite networks of the transfer evaluation from torch.nn modules. Initialise the result with
/// <see cref="ParameterInit"/> to make it a function of a generator.
/// </summary>
public static class TransferNetworks
{
    /// <summary>A freshly initialised network mapping images [n, C, H, W] to class scores [n, classes].</summary>
    public static Module<Tensor, Tensor> Create(TransferNetwork network, int width, int depth, TransferNorm norm,
                                                 long channels, long height, long imageWidth, int classes) =>
        network switch
        {
            TransferNetwork.Fc => FullyConnected(channels * height * imageWidth, width, depth, classes),
            TransferNetwork.Convnet => ConvNet(channels, height, imageWidth, width, depth, norm, classes),
            _ => throw new ArgumentOutOfRangeException(nameof(network), network, null),
        };

    /// <summary>Flatten → [Linear(width) → ReLU] × depth → Linear(classes).</summary>
    public static Module<Tensor, Tensor> FullyConnected(long inputs, int width, int depth, int classes)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        var features = inputs;
        for (var i = 0; i < depth; i++)
        {
            layers.Add(($"dense{i}", Linear(features, width)));
            layers.Add(($"relu{i}", ReLU()));
            features = width;
        }
        layers.Add(("readout", Linear(features, classes)));
        return Sequential(layers);
    }

    /// <summary>[Conv3×3 (same padding) → norm → ReLU → AvgPool2×2] × depth → Flatten → Linear(classes).</summary>
    public static Module<Tensor, Tensor> ConvNet(long channels, long height, long width, int convWidth, int depth,
                                                 TransferNorm norm, int classes)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        var inputs = channels;
        for (var i = 0; i < depth; i++)
        {
            layers.Add(($"conv{i}", Conv2d(inputs, convWidth, kernel_size: 3, padding: 1)));
            if (norm == TransferNorm.Instance)
                layers.Add(($"norm{i}", InstanceNorm2d(convWidth, affine: true))); // = GroupNorm(C, C), the DC/DSA "instancenorm"
            layers.Add(($"relu{i}", ReLU()));
            layers.Add(($"pool{i}", AvgPool2d(2)));
            (inputs, height, width) = (convWidth, height / 2, width / 2); // pooling floors odd sizes (7 → 3)
        }
        if (height < 1 || width < 1)
            throw new DistilleryException($"evaluation.options.depth: {depth} pooling blocks shrink the image to nothing; use fewer");
        layers.Add(("flatten", Flatten()));
        layers.Add(("readout", Linear(inputs * height * width, classes)));
        return Sequential(layers);
    }
}
