using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using static TorchSharp.torch;

namespace Distillery.Kip;

/// <summary>
/// The KIP objective: how well kernel ridge regression on the support set predicts a target batch,
/// 0.5 · mean((K_ts (K_ss + λI)⁻¹ y_s − y_t)²). Differentiable in the support images and labels.
/// </summary>
public static class KipLoss
{
    public static Tensor Compute(IKernelFunction kernel, Tensor supportImages, Tensor supportTargets,
                                 Tensor targetImages, Tensor targetTargets, double regularization)
    {
        using var scope = NewDisposeScope();
        var kss = kernel.Compute(supportImages, supportImages);
        var kts = kernel.Compute(targetImages, supportImages);
        var predictions = KernelRidge.Predict(kts, kss, supportTargets, regularization);
        return (0.5 * (predictions - targetTargets).square().mean()).MoveToOuterDisposeScope();
    }
}
