using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// Makes the affine layers of a transfer network — dense and 3×3 SAME convolutions — so that
/// <see cref="TransferNetworks"/> builds one architecture whatever the parameterisation (compose, don't branch).
/// Every layer it returns is a fresh module owned by the caller (disposed with the network it goes into).
/// </summary>
public interface ILayerFactory
{
    /// <summary>A dense layer mapping [n, <paramref name="inputs"/>] to [n, <paramref name="outputs"/>].</summary>
    Module<Tensor, Tensor> Dense(long inputs, long outputs);

    /// <summary>A 3×3 convolution, stride 1, SAME zero padding: [n, <paramref name="inputs"/>, H, W] → [n, <paramref name="outputs"/>, H, W].</summary>
    Module<Tensor, Tensor> Conv3x3(long inputs, long outputs);
}

/// <summary>PyTorch's own <c>Linear</c> and <c>Conv2d</c> (the standard parameterisation; <see cref="ParameterInit"/> draws them).</summary>
public sealed class StandardLayers : ILayerFactory
{
    /// <summary>The one instance: the factory has no settings.</summary>
    public static StandardLayers Instance { get; } = new();

    /// <inheritdoc />
    public Module<Tensor, Tensor> Dense(long inputs, long outputs) => Linear(inputs, outputs);

    /// <inheritdoc />
    public Module<Tensor, Tensor> Conv3x3(long inputs, long outputs) => Conv2d(inputs, outputs, kernel_size: 3, padding: 1);
}

/// <summary>
/// neural-tangents' NTK-parameterised <c>stax.Dense</c> and <c>stax.Conv</c> (parameterization='ntk'): see
/// <see cref="NtkAffine"/>. With <paramref name="weightStd"/> and <paramref name="biasStd"/> equal to a kernel's wStd and
/// bStd, the layers are those whose infinite-width limit that kernel computes.
/// </summary>
public sealed class NtkLayers(double weightStd, double biasStd) : ILayerFactory
{
    /// <inheritdoc />
    public Module<Tensor, Tensor> Dense(long inputs, long outputs) => new NtkDense(inputs, outputs, weightStd, biasStd);

    /// <inheritdoc />
    public Module<Tensor, Tensor> Conv3x3(long inputs, long outputs) => new NtkConv2d(inputs, outputs, 3, weightStd, biasStd);
}
