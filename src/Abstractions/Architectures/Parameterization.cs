namespace Distillery.Abstractions.Architectures;

/// <summary>How <see cref="FiniteNetwork"/> turns a description's affine layers (Conv, Dense) into torch modules.</summary>
public enum Parameterization
{
    /// <summary>
    /// PyTorch's own <c>Conv2d</c> and <c>Linear</c> with PyTorch's default initialisation (weights and biases
    /// ~ U(−1/√fan_in, 1/√fan_in), <see cref="ParameterInit"/>); the layers' W_std and b_std are ignored.
    /// </summary>
    Standard,

    /// <summary>
    /// neural-tangents' NTK parameterisation (<see cref="NtkAffine"/>): ω, β ~ N(0, 1), computed as
    /// (W_std/√fan_in)·ω ⋆ x + b_std·β. Its NNGP at initialisation and its NTK are the description's kernels at infinite width.
    /// </summary>
    Ntk,
}
