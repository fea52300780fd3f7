using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kip;

/// <summary>
/// The KIP objective: how well kernel ridge regression on the support set predicts a target batch,
/// 0.5 · mean((K_ts (K_ss + λI)⁻¹ y_s − y_t)²). Differentiable in the support images and labels.
/// </summary>
public static class KipLoss
{
    /// <summary>The loss (a 0-dimensional tensor of the images' dtype, on their device) of one KIP step.</summary>
    /// <param name="step">The step, for error messages: "KIP step 12".</param>
    /// <exception cref="Distillery.Abstractions.NumericalFailureException">K_ss is not finite or K_ss + λI cannot be solved.</exception>
    public static Tensor Compute(IKernelFunction kernel, Tensor supportImages, Tensor supportTargets,
                                 Tensor targetImages, Tensor targetTargets, double regularization, string step = "KIP")
    {
        using var scope = NewDisposeScope();
        return Compute(kernel.Compute(supportImages, supportImages), kernel.Compute(targetImages, supportImages),
                       supportTargets, targetTargets, regularization, step).MoveToOuterDisposeScope();
    }

    /// <summary>The loss from the step's kernel matrices K_ss [n, n] and K_ts [t, n], however they were computed (see <see cref="KipKernelMatrices"/>).</summary>
    /// <inheritdoc cref="Compute(IKernelFunction, Tensor, Tensor, Tensor, Tensor, double, string)" path="/param"/>
    /// <inheritdoc cref="Compute(IKernelFunction, Tensor, Tensor, Tensor, Tensor, double, string)" path="/exception"/>
    public static Tensor Compute(Tensor kss, Tensor kts, Tensor supportTargets, Tensor targetTargets, double regularization, string step = "KIP")
    {
        using var scope = NewDisposeScope();
        var predictions = KernelRidge.Predict(kts, kss, supportTargets, regularization, step, "algorithm.options.regularization");
        var residuals = predictions.sub(targetTargets);
        using var half = 0.5.ToScalar(); // held for the native call (see HeldScalars)
        return residuals.mul(residuals).mean().mul(half).MoveToOuterDisposeScope();
    }
}
