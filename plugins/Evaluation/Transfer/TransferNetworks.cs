using Distillery.Abstractions;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// Builds the finite networks of the transfer evaluation from torch.nn modules, their dense and convolution layers
/// made by an <see cref="ILayerFactory"/> (standard or NTK parameterisation). Initialise the result with
/// <see cref="ParameterInit"/> to make it a function of a generator. The caller owns (disposes) the network.
/// </summary>
public static class TransferNetworks
{
    /// <summary>The layer factory an options' parameterisation names.</summary>
    public static ILayerFactory Layers(TransferOptions options) => options.Parameterization switch
    {
        TransferParameterization.Standard => StandardLayers.Instance,
        TransferParameterization.Ntk => new NtkLayers(options.WStd, options.BStd),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Parameterization, null),
    };

    /// <summary>A network mapping images [n, C, H, W] to class scores [n, classes], with standard (PyTorch) layers.</summary>
    public static Module<Tensor, Tensor> Create(TransferNetwork network, int width, int depth, TransferNorm norm,
                                                 long channels, long height, long imageWidth, int classes) =>
        Create(network, StandardLayers.Instance, width, depth, norm, channels, height, imageWidth, classes);

    /// <summary>A network mapping images [n, C, H, W] to class scores [n, classes], its affine layers made by <paramref name="layers"/>.</summary>
    public static Module<Tensor, Tensor> Create(TransferNetwork network, ILayerFactory layers, int width, int depth, TransferNorm norm,
                                                 long channels, long height, long imageWidth, int classes) =>
        network switch
        {
            TransferNetwork.Fc => FullyConnected(layers, channels * height * imageWidth, width, depth, classes),
            TransferNetwork.Convnet => ConvNet(layers, channels, height, imageWidth, width, depth, norm, classes),
            _ => throw new ArgumentOutOfRangeException(nameof(network), network, null),
        };

    /// <summary>Flatten → [Linear(width) → ReLU] × depth → Linear(classes), with standard layers.</summary>
    public static Module<Tensor, Tensor> FullyConnected(long inputs, int width, int depth, int classes) =>
        FullyConnected(StandardLayers.Instance, inputs, width, depth, classes);

    /// <summary>
    /// Flatten → [Dense(width) → ReLU] × depth → Dense(classes): with <see cref="NtkLayers"/>, the network of the
    /// <c>fc</c> kernel (Dense(W, b) → ReLU, repeated, then Dense(W, b)).
    /// </summary>
    public static Module<Tensor, Tensor> FullyConnected(ILayerFactory layers, long inputs, int width, int depth, int classes)
    {
        var modules = new List<(string, Module<Tensor, Tensor>)> { ("flatten", Flatten()) };
        var features = inputs;
        for (var i = 0; i < depth; i++)
        {
            modules.Add(($"dense{i}", layers.Dense(features, width)));
            modules.Add(($"relu{i}", ReLU()));
            features = width;
        }
        modules.Add(("readout", layers.Dense(features, classes)));
        return Sequential(modules);
    }

    /// <summary>[Conv3×3 (same padding) → norm → ReLU → AvgPool2×2] × depth → Flatten → Linear(classes), with standard layers.</summary>
    public static Module<Tensor, Tensor> ConvNet(long channels, long height, long width, int convWidth, int depth,
                                                 TransferNorm norm, int classes) =>
        ConvNet(StandardLayers.Instance, channels, height, width, convWidth, depth, norm, classes);

    /// <summary>
    /// [Conv3×3 (same padding) → norm → ReLU → AvgPool2×2] × depth → Flatten → Dense(classes). With
    /// <see cref="NtkLayers"/> and <see cref="TransferNorm.None"/>, the network of the <c>convnet</c> kernel with its
    /// default pooling (avg) and readout (flatten): its NNGP is that kernel's at infinite width.
    /// </summary>
    /// <exception cref="DistilleryException">The pooling blocks shrink the image to nothing.</exception>
    public static Module<Tensor, Tensor> ConvNet(ILayerFactory layers, long channels, long height, long width, int convWidth, int depth,
                                                 TransferNorm norm, int classes)
    {
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        var inputs = channels;
        for (var i = 0; i < depth; i++)
        {
            modules.Add(($"conv{i}", layers.Conv3x3(inputs, convWidth)));
            if (norm == TransferNorm.Instance)
                modules.Add(($"norm{i}", InstanceNorm2d(convWidth, affine: true))); // = GroupNorm(C, C), the DC/DSA "instancenorm"
            modules.Add(($"relu{i}", ReLU()));
            modules.Add(($"pool{i}", AvgPool2d(2)));
            (inputs, height, width) = (convWidth, height / 2, width / 2); // pooling floors odd sizes (7 → 3)
        }
        if (height < 1 || width < 1)
            throw new OptionException("depth", $"{depth} pooling blocks shrink the image to nothing; use fewer");
        modules.Add(("flatten", Flatten()));
        modules.Add(("readout", layers.Dense(inputs * height * width, classes)));
        return Sequential(modules);
    }
}
