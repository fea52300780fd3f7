using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// The training loss of a transfer network on (a batch of) the support set, with its targets prepared once (a detached
/// copy, of the support targets' dtype and device, owned and disposed by this object).
/// </summary>
public sealed class TrainingObjective : IDisposable
{
    private readonly TransferLoss _loss;
    private readonly Tensor _targets; // [n, C] regression targets (× c) or soft labels, or [n] class indices
    private readonly double _labelScale;

    /// <param name="loss">MSE on the (scaled) targets, or cross-entropy.</param>
    /// <param name="crossEntropyTargets">With cross-entropy: argmax classes, softmax soft labels, or <paramref name="supportClasses"/>.</param>
    /// <param name="supportTargets">[n, C] support targets (e.g. one-hot minus 1/C, or learned labels).</param>
    /// <param name="labelScale">
    /// c &gt; 0 (default 1: no scaling), MSE only: the loss is ½ · mean over the batch of ‖f(x) − c·y‖² / c² (RFAD's
    /// finite-network MSE, Loo et al. 2022, <c>label_scale</c>): the network is fitted to c·y — larger targets, so the parameters move farther from
    /// init — while the loss stays in label units (it is ½‖f/c − y‖²), comparable across c. Its gradient at a zero output
    /// is 1/c of the unscaled loss's, and the linearised dynamics run c² slower: with SGD, c changes the useful learning rate.
    /// </param>
    /// <param name="supportClasses">[n] int64 class of each support image; needed for <see cref="CrossEntropyTargets.Class"/> only.</param>
    /// <exception cref="ArgumentOutOfRangeException">c is not positive, or not 1 with cross-entropy.</exception>
    /// <exception cref="ArgumentNullException">Class targets were asked for without <paramref name="supportClasses"/>.</exception>
    public TrainingObjective(TransferLoss loss, CrossEntropyTargets crossEntropyTargets, Tensor supportTargets, double labelScale = 1,
                             Tensor? supportClasses = null)
    {
        if (!(labelScale > 0) || (loss != TransferLoss.Mse && labelScale != 1))
            throw new ArgumentOutOfRangeException(nameof(labelScale), labelScale, "label scaling is a positive factor of MSE targets only");
        _loss = loss;
        _labelScale = labelScale;
        using var noGrad = no_grad();
        var targets = supportTargets.detach();
        using var scale = labelScale.ToScalar(); // held for the native call (see HeldScalars)
        _targets = loss == TransferLoss.Mse ? targets.mul(scale)
            : crossEntropyTargets switch
            {
                CrossEntropyTargets.Argmax => targets.argmax(1),
                CrossEntropyTargets.Softmax => targets.softmax(1),
                CrossEntropyTargets.Class => (supportClasses ?? throw new ArgumentNullException(nameof(supportClasses), "class targets need the support classes"))
                     .detach().to(ScalarType.Int64, targets.device).clone(),
                _ => throw new ArgumentOutOfRangeException(nameof(crossEntropyTargets), crossEntropyTargets, "unknown cross-entropy targets"),
            };
    }

    /// <summary>The scalar loss of <paramref name="outputs"/> [batch, C] for the support rows <paramref name="rows"/> (null: all rows, in order).</summary>
    public Tensor Compute(Tensor outputs, Tensor? rows)
    {
        var targets = rows is null ? _targets : _targets.index_select(0, rows);
        if (_loss == TransferLoss.Mse)
        {
            var residuals = outputs.sub(targets);
            using var factor = (0.5 / (_labelScale * _labelScale)).ToScalar(); // held for the native call (see HeldScalars)
            return residuals.mul(residuals).sum(1).mean().mul(factor); // ½‖f(x) − c·y‖² / c², averaged over the batch
        }
        return targets.dim() == 1
            ? F.cross_entropy(outputs, targets)
            : -(targets * F.log_softmax(outputs, 1)).sum(1).mean();
    }

    /// <summary>Frees the prepared targets.</summary>
    public void Dispose() => _targets.Dispose();
}
