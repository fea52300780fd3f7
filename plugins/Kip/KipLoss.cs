using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kip;

/// <summary>
/// The KIP objective: how well kernel ridge regression on the support set predicts a target batch. The predictions
/// ŷ_t = K_ts (K_ss + λI)⁻¹ y_s (<see cref="Predict"/>) are scored by one of two losses applied to (predictions,
/// targets): 0.5 · mean((ŷ_t − y_t)²) (<see cref="MeanSquaredError"/>, KIP's) or the Platt-scaled cross-entropy
/// (<see cref="PlattCrossEntropy"/>, RFAD's). Differentiable in the support images and labels, and in log τ.
/// </summary>
public static class KipLoss
{
    /// <summary>The loss (a 0-dimensional tensor of the images' dtype, on their device) of one KIP step.</summary>
    /// <param name="supportImages">[n, C, H, W].</param>
    /// <param name="supportTargets">[n, classes] regression targets.</param>
    /// <param name="targetImages">[n_t, C, H, W].</param>
    /// <param name="targetTargets">[n_t, classes], one-hot minus 1/C (the Platt loss reads the class as the argmax).</param>
    /// <param name="step">The step, for error messages: "KIP step 12".</param>
    /// <param name="logTemperature">log τ, a 0-dimensional tensor of the images' dtype: given, the loss is the
    /// Platt-scaled cross-entropy; null, the mean squared error.</param>
    /// <param name="regularizationOption">How error messages name the option that sets reg: the run's
    /// <c>OptionPath("regularization")</c>, e.g. "algorithm.options.regularization".</param>
    /// <exception cref="Distillery.Abstractions.NumericalFailureException">K_ss is not finite or K_ss + λI cannot be solved.</exception>
    public static Tensor Compute(IKernelFunction kernel, Tensor supportImages, Tensor supportTargets,
                                 Tensor targetImages, Tensor targetTargets, double regularization, string step = "KIP",
                                 Tensor? logTemperature = null, string regularizationOption = "options.regularization")
    {
        using var scope = NewDisposeScope();
        return Compute(kernel.Compute(supportImages, supportImages), kernel.Compute(targetImages, supportImages),
                       supportTargets, targetTargets, regularization, step, logTemperature, regularizationOption).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The loss from the step's kernel matrices K_ss [n, n] and K_ts [n_t, n], however they were computed (see
    /// <see cref="KipKernelMatrices"/>): MSE, or the Platt-scaled cross-entropy when <paramref name="logTemperature"/> is given.
    /// </summary>
    /// <inheritdoc cref="Compute(IKernelFunction, Tensor, Tensor, Tensor, Tensor, double, string, Tensor?, string)" path="/param"/>
    /// <inheritdoc cref="Compute(IKernelFunction, Tensor, Tensor, Tensor, Tensor, double, string, Tensor?, string)" path="/exception"/>
    public static Tensor Compute(Tensor kss, Tensor kts, Tensor supportTargets, Tensor targetTargets, double regularization,
                                 string step = "KIP", Tensor? logTemperature = null, string regularizationOption = "options.regularization")
    {
        using var scope = NewDisposeScope();
        var predictions = KernelRidge.Predict(kts, kss, supportTargets, regularization, step, regularizationOption);
        var loss = logTemperature is null
            ? MeanSquaredError(predictions, targetTargets)
            : PlattCrossEntropy(predictions, targetTargets, logTemperature);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>KIP's loss, 0.5 · mean((ŷ_t − y_t)²) over all n_t × classes entries (Nguyen, Chen &amp; Lee 2021).</summary>
    public static Tensor MeanSquaredError(Tensor predictions, Tensor targets)
    {
        using var scope = NewDisposeScope();
        var residuals = predictions.sub(targets);
        using var half = 0.5.ToScalar(); // held for the native call (see HeldScalars)
        return residuals.mul(residuals).mean().mul(half).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// RFAD's Platt-scaled cross-entropy (Loo, Hasani, Amini &amp; Rus, NeurIPS 2022): the mean over the batch of
    /// −log softmax(τ · ŷ_t)[class], τ = exp(log τ) &gt; 0 learned alongside the images. The predictions of a KRR
    /// regressor on ±labels are poorly scaled logits; τ calibrates them, so the loss rewards ranking the right class
    /// first rather than fitting the regression targets exactly.
    /// </summary>
    /// <param name="predictions">[n_t, classes].</param>
    /// <param name="targets">[n_t, classes], one-hot minus 1/C: the class of each row is its argmax (as RFAD reads it).</param>
    /// <param name="logTemperature">log τ, 0-dimensional, the predictions' dtype and device.</param>
    public static Tensor PlattCrossEntropy(Tensor predictions, Tensor targets, Tensor logTemperature)
    {
        using var scope = NewDisposeScope();
        var classes = targets.argmax(1);
        var logits = predictions.mul(logTemperature.exp());
        return nn.functional.cross_entropy(logits, classes).MoveToOuterDisposeScope();
    }
}
