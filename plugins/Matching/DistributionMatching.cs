using Distillery.Abstractions;
using Distillery.Abstractions.Augmentation;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// Dataset condensation with distribution matching (Zhao &amp; Bilen, WACV 2023): each iteration draws a fresh,
/// untrained ConvNet and takes one SGD step (momentum 0.5) on the synthetic images along the gradient of
/// Σ_c ‖mean embed(real_c) − mean embed(syn_c)‖², the real batch of each class and its synthetic images augmented by one
/// shared DSA transform (unless the augmentation is <c>none</c>).
/// </summary>
/// <remarks>
/// Generator purposes (index: the iteration, 0-based): <c>dm.support-init</c> (the starting images), <c>(dm.network, i)</c>,
/// <c>(dm.real-batch, i)</c> (the real batches of every class) and <c>(dm.augment, i)</c> (one shared transform per class,
/// in class order). A checkpoint follows any iteration: the images and their momentum are the whole state.
/// </remarks>
internal static class DistributionMatching
{
    private const string Prefix = "dm";

    /// <summary>Runs DM to the end, or from the run folder's checkpoint; returns the support set.</summary>
    public static SupportSet Distill(DistillationContext run, DmOptions options, DifferentiableAugmentation? augmentation)
    {
        var sampler = new ClassBalancedSampler(run.Train);
        var (state, checkpoint) = SyntheticSet.Start(run, options, sampler, Prefix);
        using var owned = state;
        if (checkpoint is not null)
            foreach (var tensor in checkpoint.Tensors.Values) tensor.Dispose(); // restored into the state
        return new MatchingLoop(run, Prefix, options, updatesPerIteration: 1)
            .Run(state, iteration => Update(run, options, augmentation, sampler, state, iteration), () => []);
    }

    /// <summary>Iteration <paramref name="iteration"/>'s image update; returns the loss divided by the number of classes.</summary>
    private static double Update(DistillationContext run, DmOptions options, DifferentiableAugmentation? augmentation,
                                 ClassBalancedSampler sampler, SyntheticSet state, long iteration)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad(); // the host may call under no_grad
        using var network = MatchingNetwork.Create(run, options, $"{Prefix}.network", iteration);
        network.Freeze();

        using var batchGenerator = run.CreateGenerator($"{Prefix}.real-batch", iteration);
        var rows = tensor(sampler.Sample(options.RealBatchSize, batchGenerator), device: run.Device);
        var real = run.Train.Images.index_select(0, rows);
        var synthetic = state.Images.detach().requires_grad_(true);
        var syntheticImages = synthetic;
        if (augmentation is not null)
        {
            using var augmentGenerator = run.CreateGenerator($"{Prefix}.augment", iteration);
            (real, syntheticImages) = AugmentPerClass(augmentation, augmentGenerator, real, synthetic, state.ClassCount);
        }

        Tensor realMeans;
        using (no_grad())
            realMeans = ClassEmbeddingMeans.Compute(network.Embed, real, state.ClassCount);
        var syntheticMeans = ClassEmbeddingMeans.Compute(network.Embed, syntheticImages, state.ClassCount);
        using var minusOne = (-1.0).ToScalar(); // held for the native call (see HeldScalars)
        var difference = realMeans.add(syntheticMeans, minusOne);
        var loss = difference.mul(difference).sum();
        var value = loss.ToDouble() / state.ClassCount;
        var where = $"DM iteration {iteration + 1}";
        if (!double.IsFinite(value))
            throw new NumericalFailureException($"{where}: the distribution-matching loss became {value}; {Advice(run, options)}");
        var gradient = autograd.grad([loss], [synthetic])[0];
        state.Optimizer.Update(gradient);
        FiniteCheck.Require(state.Images, where, "the synthetic images after the SGD update", () => Advice(run, options));
        return value;
    }

    /// <summary>Each class's real and synthetic images through one shared transform (Siamese), drawn in class order.</summary>
    private static (Tensor Real, Tensor Synthetic) AugmentPerClass(DifferentiableAugmentation augmentation, Generator generator,
                                                                   Tensor real, Tensor synthetic, int classCount)
    {
        var realPerClass = real.shape[0] / classCount;
        var syntheticPerClass = synthetic.shape[0] / classCount;
        var realParts = new Tensor[classCount];
        var syntheticParts = new Tensor[classCount];
        for (var c = 0; c < classCount; c++)
        {
            using var transform = augmentation.Sample(generator, 1);
            realParts[c] = transform.Apply(real.narrow(0, c * realPerClass, realPerClass));
            syntheticParts[c] = transform.Apply(synthetic.narrow(0, c * syntheticPerClass, syntheticPerClass));
        }
        return (cat(realParts), cat(syntheticParts));
    }

    private static string Advice(RunContext run, DmOptions options) =>
        $"lower {run.OptionPath(nameof(options.ImageLearningRate))} (now {options.ImageLearningRate:G3}) or run in float64 (\"dtype\": \"float64\")";
}
