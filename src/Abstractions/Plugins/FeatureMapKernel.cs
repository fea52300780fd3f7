using TorchSharp;

namespace Distillery.Abstractions.Plugins;

/// <summary>
/// An optional capability of a kernel: an explicit finite feature map, k(x, x′) = φ(x)·φ(x′) + c, as random-feature
/// kernels have (RFAD, Loo et al. NeurIPS 2022: the features of an ensemble of random finite networks). Algorithms that
/// see it can compute features once per image and form kernel matrices by matrix products, and can keep the features of
/// a fixed image set (the training or test set) across steps in a <see cref="Data.FeatureCache"/> while the map stays
/// the same. Kernels without it keep working through <see cref="IKernelFunction.Compute"/>; a kernel that implements it
/// must give <c>Compute(x1, x2)</c> = <c>FromFeatures(Features(x1), Features(x2))</c> up to rounding.
/// </summary>
public interface IFeatureMapKernel : IKernelFunction
{
    /// <summary>
    /// The identity of the current feature map (e.g. "convnet-rf seed 123, 8 networks"): equal identities give equal
    /// features for equal images, bit for bit; a redraw that changes the map changes it. A cache compares it to know
    /// whether what it holds is stale. It covers what the map depends on, not the images' channels, dtype or device
    /// (a cache is bound to one image set and one dtype).
    /// </summary>
    string FeatureMapId { get; }

    /// <summary>
    /// True when <see cref="IRedrawableKernel.Redraw"/> with a generator keeps the map (a fixed draw), so an
    /// optimisation may cache the features of its fixed images across steps; false when every step draws anew (then
    /// a cache of the whole training set would be recomputed at every step, far dearer than the step's own rows).
    /// <c>Redraw(null)</c> may still switch to another map (a larger evaluation draw): <see cref="FeatureMapId"/> tells.
    /// </summary>
    bool FixedAcrossSteps { get; }

    /// <summary>
    /// The dtype a cache stores this kernel's features in, e.g. <see cref="torch.ScalarType.Float16"/> to halve its
    /// memory (rows are upcast to the computation's dtype when read); null: the computation's own dtype.
    /// </summary>
    torch.ScalarType? FeatureStorageType { get; }

    /// <summary>
    /// φ(images): [n, F] for images [n, C, H, W], in the images' dtype and on their device; differentiable with
    /// respect to the images. The caller owns (disposes) the result. F may depend on the images' shape.
    /// </summary>
    torch.Tensor Features(torch.Tensor images);

    /// <summary>
    /// The kernel matrix [n1, n2] between two sets of features [n1, F] and [n2, F] of this map (the caller owns it):
    /// φ₁·φ₂ᵀ + c. Differentiable with respect to both.
    /// </summary>
    torch.Tensor FromFeatures(torch.Tensor features1, torch.Tensor features2);
}
