using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using static TorchSharp.torch;

namespace Distillery.Kip;

/// <summary>
/// The kernel matrices of one KIP step, K_ss [n, n] and K_ts [t, n] (differentiable in the support images), computed
/// as cheaply as the kernel allows. A kernel with an explicit feature map (<see cref="IFeatureMapKernel"/>) pushes the
/// support images through its map once for both matrices; the target batch's features come from
/// <paramref name="trainFeatures"/> (rows of the training set's cached features: no target image goes through the
/// networks) when the draw is fixed, or are computed without gradients. Any other kernel is asked for both matrices.
/// </summary>
public static class KipKernelMatrices
{
    /// <param name="trainFeatures">The training set's feature cache (null: none), read at the target batch's <paramref name="batch"/> indices.</param>
    /// <param name="targetImages">The target batch [t, C, H, W]: the training images at <paramref name="batch"/> (int64 [t]).</param>
    public static (Tensor Kss, Tensor Kts) Compute(IKernelFunction kernel, FeatureCache? trainFeatures, Tensor supportImages,
                                                   Tensor targetImages, Tensor batch)
    {
        using var scope = NewDisposeScope();
        var supportKernel = new SupportKernel(kernel, supportImages);
        Tensor? targetFeatures; // no target image needs a gradient
        using (no_grad()) targetFeatures = trainFeatures?.Rows(batch) ?? supportKernel.FeatureMap?.Features(targetImages);
        return (supportKernel.SelfKernel().MoveToOuterDisposeScope(), supportKernel.Against(targetImages, targetFeatures).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The cache KIP keeps of the training set's features: only for a feature-map kernel whose draw stays fixed across
    /// steps (a per-step draw would recompute the whole set at every step); null otherwise. The caller disposes it.
    /// </summary>
    public static FeatureCache? TrainFeatures(IKernelFunction kernel, ImageSet train, ScalarType dtype) =>
        kernel is IFeatureMapKernel { FixedAcrossSteps: true } featureMap ? new FeatureCache(featureMap, train.Images, dtype) : null;
}
