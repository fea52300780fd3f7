using Distillery.Abstractions;
using Distillery.Abstractions.Architectures;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// The finite networks of the transfer evaluation, as descriptions (<see cref="Architecture"/>) built by the contract's
/// <see cref="FiniteNetwork"/>: the same descriptions the <c>fc</c>, <c>convnet</c> and <c>convnet-rf</c> kernels derive
/// their kernels from (with norm none and the ntk parameterisation, the transfer network is the kernel's network).
/// </summary>
public static class TransferNetworks
{
    /// <summary>
    /// The network the options name, with <paramref name="classes"/> outputs: fc is Flatten → [Dense(width) → Relu] × depth
    /// → Dense(classes); convnet is [Conv3×3(width) → (InstanceNorm) → Relu → AvgPool 2×2] × depth → Flatten →
    /// Dense(classes); every affine layer with the options' wStd and bStd (used by the ntk parameterisation only).
    /// </summary>
    public static Architecture Describe(TransferOptions options, int classes) => options.Network switch
    {
        TransferNetwork.Fc => Architecture.FullyConnected(options.ResolvedDepth(), options.ResolvedWidth(), classes, options.WStd, options.BStd),
        TransferNetwork.Convnet => Architecture.ConvNet(options.ResolvedDepth(), options.ResolvedWidth(), classes, options.WStd, options.BStd,
                                                        pooling: new Layer.AvgPool(2), readout: new Layer.Flatten(),
                                                        instanceNorm: options.Norm == TransferNorm.Instance),
        _ => throw new ArgumentOutOfRangeException(nameof(options), options.Network, null),
    };

    /// <summary>
    /// The options' network for images [n, C, H, W] of <paramref name="imageShape"/>, mapping them to class scores
    /// [n, classes]; drawn from <paramref name="generator"/>, or, without one, not initialised (a container to
    /// overwrite: see <see cref="FiniteNetwork.Create(Architecture, FeatureShape, Abstractions.Architectures.Parameterization)"/>).
    /// Float32 on the CPU; the caller owns it.
    /// </summary>
    /// <exception cref="OptionException">The conv blocks' pools shrink the images to nothing (option <c>depth</c>; the host adds the entry's path).</exception>
    public static TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> Create(
        TransferOptions options, IReadOnlyList<long> imageShape, int classes, TorchSharp.torch.Generator? generator)
    {
        var architecture = Describe(options, classes);
        var input = FeatureShape.OfBatch(imageShape);
        return OnImages(options, input, () => generator is null
            ? FiniteNetwork.Create(architecture, input, options.Parameterization)
            : FiniteNetwork.Create(architecture, input, options.Parameterization, generator));
    }

    /// <summary>
    /// Values in the largest activation of the options' network for one image of a batch of <paramref name="imageShape"/>
    /// (<see cref="Architecture.LargestActivation"/>), to size CPU blocks (<see cref="Abstractions.Numerics.CpuBlocks"/>).
    /// </summary>
    /// <exception cref="OptionException">As <see cref="Create"/>: the pools shrink the images to nothing.</exception>
    public static long LargestActivation(TransferOptions options, IReadOnlyList<long> imageShape, int classes)
    {
        var input = FeatureShape.OfBatch(imageShape);
        return OnImages(options, input, () => Describe(options, classes).LargestActivation(input));
    }

    /// <summary>Runs <paramref name="use"/> of the options' network on <paramref name="input"/> images, naming the option when they do not fit it.</summary>
    private static T OnImages<T>(TransferOptions options, FeatureShape input, Func<T> use)
    {
        try
        {
            return use();
        }
        catch (ArchitectureException)
        {
            // The description's own message lists every layer; the user set one number, so name that and the image size.
            throw new OptionException("depth", $"{options.ResolvedDepth()} pooling blocks shrink {input} images to nothing; use fewer");
        }
    }
}
