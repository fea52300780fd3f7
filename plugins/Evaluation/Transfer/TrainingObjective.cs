using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distillery.Evaluation.Transfer;

/// <summary>The training loss of a transfer network on (a batch of) the support set, with its targets prepared once.</summary>
public sealed class TrainingObjective : IDisposable
{
    private readonly TransferLoss _loss;
    private readonly Tensor _targets; // [n, C] regression targets or soft labels, or [n] class indices

    public TrainingObjective(TransferLoss loss, CrossEntropyTargets crossEntropyTargets, Tensor supportTargets)
    {
        _loss = loss;
        using var noGrad = no_grad();
        var targets = supportTargets.detach();
        _targets = loss == TransferLoss.Mse ? targets.clone()
            : crossEntropyTargets == CrossEntropyTargets.Argmax ? targets.argmax(1)
            : targets.softmax(1);
    }

    /// <summary>The loss of <paramref name="outputs"/> for the support rows <paramref name="rows"/> (null: all rows, in order).</summary>
    public Tensor Compute(Tensor outputs, Tensor? rows)
    {
        var targets = rows is null ? _targets : _targets.index_select(0, rows);
        if (_loss == TransferLoss.Mse)
        {
            var residuals = outputs.sub(targets);
            using var half = 0.5.ToScalar(); // held for the native call (see HeldScalars)
            return residuals.mul(residuals).sum(1).mean().mul(half); // ½‖f(x) − y‖², averaged over the batch
        }
        return targets.dim() == 1
            ? F.cross_entropy(outputs, targets)
            : -(targets * F.log_softmax(outputs, 1)).sum(1).mean();
    }

    public void Dispose() => _targets.Dispose();
}
