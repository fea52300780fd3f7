using Distillery.Abstractions;
using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// Trains one network on the support set for a fixed number of steps: SGD (momentum 0.9) or Adam with weight
/// decay, learning rate annealed from its initial value to 0 by a cosine schedule.
/// </summary>
/// <param name="learningRateOption">How the divergence error names the learning-rate option: the run's
/// <c>OptionPath("learningRate")</c>, e.g. "evaluation[1].options.learningRate".</param>
public sealed class NetworkTrainer(TransferOptions options, string learningRateOption)
{
    /// <summary>Trains <paramref name="network"/> in place; returns the loss of the last step.</summary>
    /// <param name="examplesPerChunk">
    /// Images per forward and backward pass, ≥ 1: a larger batch is run in chunks whose gradients add up to the batch's
    /// (each chunk's mean loss weighted by its share; the networks have no batch statistics), so that no activation is
    /// mapped afresh at every step (<see cref="CpuBlocks.Mapped"/>). Chunking changes only floating-point rounding.
    /// </param>
    /// <param name="onStep">Called after every step with (step, loss thunk): the loss is read only when asked for.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="examplesPerChunk"/> is below 1.</exception>
    public double Train(nn.Module<Tensor, Tensor> network, Tensor images, TrainingObjective objective, MinibatchOrder order,
                        ImageAugmentation augmentation, long examplesPerChunk, Action<int, Func<double>> onStep, CancellationToken cancellation)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(examplesPerChunk, 1);
        // The host evaluates under no_grad; training needs autograd back on.
        using var grad = enable_grad();
        network.train();
        var inputs = images.detach();
        // A centred network's frozen copy is not trained, and its decay pulls towards θ₀ (see NetworkOptimizer.Create).
        var centred = network as CentredNetwork;
        using var optimizer = NetworkOptimizer.Create(options.Optimizer, centred?.TrainableParameters ?? network.parameters(),
                                                      options.WeightDecay, centred?.InitialParameters);
        var learningRate = options.ResolvedLearningRate();

        var lastLoss = double.NaN;
        for (var step = 1; step <= options.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var rows = order.Next();
            var batch = rows is null ? inputs : inputs.index_select(0, rows);
            optimizer.ZeroGrad();
            var loss = Backward(network, objective, augmentation.Apply(batch), rows, examplesPerChunk);
            optimizer.Step(learningRate);
            learningRate = NetworkOptimizer.CosineAnnealed(learningRate, step, options.Steps);

            var at = step;
            double Read() => Checked(loss.ToDouble(), at);
            if (step == options.Steps) lastLoss = Read();
            onStep(step, Read); // reading the loss synchronises; the caller decides how often
        }
        return lastLoss;
    }

    /// <summary>The batch's loss (detached when chunked), its gradient accumulated into the parameters.</summary>
    private static Tensor Backward(nn.Module<Tensor, Tensor> network, TrainingObjective objective, Tensor batch, Tensor? rows, long examplesPerChunk)
    {
        var count = batch.shape[0];
        if (count <= examplesPerChunk)
        {
            var loss = objective.Compute(network.call(batch), rows);
            loss.backward();
            return loss;
        }
        Tensor? total = null;
        for (long start = 0; start < count; start += examplesPerChunk)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(examplesPerChunk, count - start);
            // Without rows the batch is the whole support set in order: the chunk holds rows start … start + length − 1.
            using var first = start.ToScalar(); // held for the native calls (see HeldScalars)
            using var end = (start + length).ToScalar();
            var chunkRows = rows?.narrow(0, start, length) ?? arange(first, end, HeldScalars.One, dtype: ScalarType.Int64, device: batch.device);
            using var share = ((double)length / count).ToScalar(); // held for the native call (see HeldScalars)
            var loss = objective.Compute(network.call(batch.narrow(0, start, length)), chunkRows).mul(share);
            loss.backward();
            total = (total is null ? loss.detach().clone() : total.add(loss.detach(), HeldScalars.One)).MoveToOuterDisposeScope();
        }
        return total!;
    }

    /// <summary>A diverged network's accuracy means nothing: stop the run (exit 3) with what to change rather than report it.</summary>
    private double Checked(double loss, int step) => double.IsFinite(loss)
        ? loss
        : throw new NumericalFailureException(
            $"evaluator 'transfer': training diverged (loss {loss} at step {step}); lower {learningRateOption} (now {options.ResolvedLearningRate()})");
}
