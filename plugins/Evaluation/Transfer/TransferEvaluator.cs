using Distillery.Abstractions;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// Finite-network transfer: trains freshly initialised networks (fc or convnet) on the support set alone — its
/// images in the run's preprocessed space and its targets — and reports their test accuracy, mean ± std over
/// seeds. Network s draws its initial weights (<see cref="Abstractions.Architectures.ParameterInit"/>), then its batch
/// order and augmentations from <c>CreateGenerator("transfer", s)</c>, so the figures depend only on the run seed, the
/// options, the support set and the device (the global generator is neither used nor disturbed).
/// </summary>
[ExportEvaluator("transfer", Description = "Train fresh finite networks (fc or convnet) on the support set: test accuracy mean ± std over seeds.")]
public sealed class TransferEvaluator : IEvaluator<TransferOptions>
{
    /// <summary>Trains <c>options.Seeds</c> networks on <c>evaluation.Support</c> and measures each on <c>evaluation.Test</c>.</summary>
    /// <returns>testAccuracy (mean, a fraction), testAccuracyStd (ddof 0), seeds, trainLoss (mean last-step loss), testAccuracySeed{i}.</returns>
    /// <exception cref="DistilleryException">Empty support, or support and test disagree on the class count.</exception>
    /// <exception cref="OptionException">The <c>augmentation</c> strategy is not one (the host validates it before the run).</exception>
    /// <exception cref="NumericalFailureException">Training diverged or the trained network's test outputs are not finite.</exception>
    public IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, TransferOptions options)
    {
        var support = evaluation.Support;
        if (support.Count == 0) throw new DistilleryException("evaluator 'transfer' got an empty support set");
        var classes = (int)support.Targets.shape[1];
        if (classes != evaluation.Test.ClassCount)
            throw new DistilleryException($"evaluator 'transfer': the support targets have {classes} classes, the test set {evaluation.Test.ClassCount}");

        using var images = support.Images.detach().to(evaluation.DType, evaluation.Device);
        using var targets = support.Targets.detach().to(evaluation.DType, evaluation.Device);
        using var objective = new TrainingObjective(options.Loss, options.CrossEntropyTargets, targets, options.LabelScale, support.Classes);
        var learningRateOption = evaluation.OptionPath(nameof(options.LearningRate)); // named in divergence errors
        var trainer = new NetworkTrainer(options, learningRateOption);
        var reportEvery = Math.Max(1, (long)options.Seeds * options.Steps / 200); // ~200 progress lines per evaluation
        var differentiable = options.ResolvedAugmentation();

        // A batch too large for glibc's thread-arena heap is trained in chunks, and test images are scored in blocks, that fit it.
        var largest = TransferNetworks.LargestActivation(options, support.Images.shape, classes);
        var batchSize = options.ResolvedBatchSize(support.Count);
        var device = evaluation.Device.type;
        var examplesPerChunk = CpuBlocks.Mapped(largest, evaluation.DType, device, batchSize)
            ? CpuBlocks.Examples(largest, evaluation.DType, device, batchSize) : batchSize;
        var testBlock = (int)CpuBlocks.Examples(largest, evaluation.DType, device, options.EvaluationBatchSize);

        evaluation.Progress.Start("transfer", (long)options.Seeds * options.Steps);
        var accuracies = new double[options.Seeds];
        var losses = new double[options.Seeds];
        for (var seed = 0; seed < options.Seeds; seed++)
        {
            using var generator = evaluation.CreateGenerator("transfer", seed);
            using var network = Build(options, support.Images.shape, classes, generator, evaluation);
            var order = new MinibatchOrder(support.Count, batchSize, generator, evaluation.Device);
            var augmentation = new ImageAugmentation(options.AugmentShift, options.AugmentFlip, generator, differentiable);
            var stepsBefore = (long)seed * options.Steps;
            losses[seed] = trainer.Train(network, images, objective, order, augmentation, examplesPerChunk, (step, loss) =>
            {
                var done = stepsBefore + step;
                if (done % reportEvery == 0 || step == options.Steps)
                    evaluation.Progress.Report(new ProgressUpdate(done, loss()));
            }, evaluation.Cancellation);
            accuracies[seed] = TestAccuracy.Measure(network, evaluation.Test, testBlock,
                                                    evaluation.Device, evaluation.DType, evaluation.Cancellation, learningRateOption);
        }
        return Figures(accuracies, losses);
    }

    /// <summary>
    /// Built and initialised on the CPU (so init is the same on every device), then moved; with centring, wrapped in a
    /// <see cref="CentredNetwork"/> around a second, uninitialised instance moved alike (so θ₀ is copied in the run's
    /// dtype, exactly; building it draws nothing from <paramref name="generator"/>).
    /// </summary>
    private static nn.Module<Tensor, Tensor> Build(TransferOptions options, long[] imageShape, int classes, Generator generator, RunContext run)
    {
        var network = TransferNetworks.Create(options, imageShape, classes, generator).to(run.DType).to(run.Device);
        return options.Centering
            ? new CentredNetwork(network, TransferNetworks.Create(options, imageShape, classes, generator: null).to(run.DType).to(run.Device))
            : network;
    }

    /// <summary>Mean and population std (ddof 0, as numpy's std in the reference code) plus the per-seed values.</summary>
    private static Dictionary<string, double> Figures(double[] accuracies, double[] losses)
    {
        var mean = accuracies.Average();
        var figures = new Dictionary<string, double>
        {
            ["testAccuracy"] = mean,
            ["testAccuracyStd"] = Math.Sqrt(accuracies.Average(a => (a - mean) * (a - mean))),
            ["seeds"] = accuracies.Length,
            ["trainLoss"] = losses.Average(),
        };
        for (var i = 0; i < accuracies.Length; i++) figures[$"testAccuracySeed{i}"] = accuracies[i];
        return figures;
    }
}
