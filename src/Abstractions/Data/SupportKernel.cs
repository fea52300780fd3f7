using Distillery.Abstractions.Plugins;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// A kernel against one support set, for the callers that form K_ss once and K_ts for one or many target blocks
/// (a KIP step, Label Solve, KRR evaluation). With an <see cref="IFeatureMapKernel"/> the support's features are
/// computed once, at construction, and every matrix is a product of features; any other kernel is asked through
/// <see cref="IKernelFunction.Compute"/>.
/// </summary>
/// <remarks>
/// The support's features live in the caller's dispose scope at construction; every matrix returned belongs to the
/// caller's scope at the call. Differentiable in the support images (and in target images passed as images).
/// </remarks>
public sealed class SupportKernel
{
    private readonly IKernelFunction kernel;
    private readonly Tensor supportImages;
    private readonly Tensor? supportFeatures;

    /// <param name="kernel">The kernel.</param>
    /// <param name="supportImages">The support images [n, C, H, W] (not copied and not owned).</param>
    public SupportKernel(IKernelFunction kernel, Tensor supportImages)
    {
        this.kernel = kernel;
        this.supportImages = supportImages;
        FeatureMap = kernel as IFeatureMapKernel;
        supportFeatures = FeatureMap?.Features(supportImages);
    }

    /// <summary>The kernel's feature map, or null when it has none (then target features cannot be passed).</summary>
    public IFeatureMapKernel? FeatureMap { get; }

    /// <summary>K_ss [n, n].</summary>
    public Tensor SelfKernel() =>
        FeatureMap is null ? kernel.Compute(supportImages, supportImages) : FeatureMap.FromFeatures(supportFeatures!, supportFeatures!);

    /// <summary>
    /// K_ts [t, n] for target images [t, C, H, W]. <paramref name="targetFeatures"/>, when given, are those images'
    /// features [t, F] under <see cref="FeatureMap"/> (read from a <see cref="FeatureCache"/>): the images then do
    /// not go through the kernel at all.
    /// </summary>
    public Tensor Against(Tensor targetImages, Tensor? targetFeatures = null) =>
        FeatureMap is null
            ? kernel.Compute(targetImages, supportImages)
            : FeatureMap.FromFeatures(targetFeatures ?? FeatureMap.Features(targetImages), supportFeatures!);
}
