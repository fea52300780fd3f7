using Distillery.Abstractions;
using Distillery.Abstractions.Augmentation;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// Dataset condensation by gradient matching (Zhao, Mopuri &amp; Bilen, ICLR 2021), optionally with differentiable
/// Siamese augmentation (Zhao &amp; Bilen, ICML 2021): one algorithm behind the two exports <c>dc</c> and <c>dsa</c>.
/// </summary>
/// <remarks>
/// Each iteration draws a fresh ConvNet; then, <c>outerLoop</c> times: for each class c, the network's cross-entropy
/// gradient on a real batch of class c and on the synthetic images of class c (the latter with its graph) are compared by
/// <see cref="GradientMatchingDistance"/>; the distances summed over classes take one SGD step (momentum 0.5) on the
/// synthetic images; and, except after the last, the network is trained for <c>innerLoop</c> passes over the detached
/// synthetic set by plain SGD. With an augmentation, each class's real and synthetic batches share one drawn transform,
/// and each network-training batch gets a transform per image.
/// <para>Generator purposes (prefix <c>dc</c> or <c>dsa</c>; u is the image update's number over the whole run,
/// iteration · outerLoop + position): <c>&lt;p&gt;.support-init</c> (the starting images), <c>(&lt;p&gt;.network,
/// iteration)</c>, <c>(&lt;p&gt;.real-batch, u)</c> (the real batches of every class), <c>(&lt;p&gt;.inner-order, u)</c> (the
/// shuffles of the network training after update u); DSA adds <c>(dsa.augment, u)</c> (one shared transform per class, in
/// class order) and <c>(dsa.inner-augment, u)</c> (the per-image transforms of that training).</para>
/// <para>A checkpoint can follow any image update: inside an iteration it also holds the network's parameters (its SGD
/// has no state), so a resumed run continues mid-iteration, bit for bit.</para>
/// </remarks>
internal sealed class GradientMatching : IDisposable
{
    private readonly DistillationContext _run;
    private readonly GradientMatchingOptions _options;
    private readonly string _prefix;
    private readonly DifferentiableAugmentation? _augmentation;
    private readonly ClassBalancedSampler _sampler;
    private readonly SyntheticSet _state;
    private readonly int _outerLoop, _innerLoop;
    private readonly Tensor _realLabels;
    private Checkpoint? _resumedFrom;
    private MatchingNetwork? _network;

    private GradientMatching(DistillationContext run, GradientMatchingOptions options, string prefix, DifferentiableAugmentation? augmentation)
    {
        _run = run;
        _options = options;
        _prefix = prefix;
        _augmentation = augmentation;
        _sampler = new ClassBalancedSampler(run.Train);
        (_outerLoop, _innerLoop) = options.ResolvedLoops();
        // Said once, because null loops resolve by images per class and a run's cost grows with both.
        run.Logger.LogInformation(
            "{Algorithm}: {Iterations} iterations of {Outer} image updates (outerLoop {OuterSource}), {Inner} passes over the synthetic set between two (innerLoop {InnerSource})",
            prefix, options.Iterations, _outerLoop, options.OuterLoop is null ? "null: the paper's" : "as set",
            _innerLoop, options.InnerLoop is null ? "null: the paper's" : "as set");
        (_state, _resumedFrom) = SyntheticSet.Start(run, options, _sampler, prefix);
        if (_state.Updates % _outerLoop != 0) StartNetwork(_state.Updates / _outerLoop); // resumed inside an iteration
        else ReleaseCheckpoint();
        _realLabels = SyntheticSet.GroupedLabels(run.Train.ClassCount, options.RealBatchSize, run.Device); // the real batches are grouped by class
    }

    /// <summary>Runs DC (no augmentation) or DSA to the end, or from the run folder's checkpoint; returns the support set.</summary>
    public static SupportSet Distill(DistillationContext run, GradientMatchingOptions options, string prefix, DifferentiableAugmentation? augmentation)
    {
        using var matching = new GradientMatching(run, options, prefix, augmentation);
        return new MatchingLoop(run, prefix, options, matching._outerLoop)
            .Run(matching._state, matching.Update, () => matching._network!.CheckpointTensors());
    }

    /// <summary>Image update <paramref name="u"/>, then (unless it ends its iteration) the network training that follows it.</summary>
    private double Update(long u)
    {
        var iteration = u / _outerLoop;
        var position = u % _outerLoop;
        if (position == 0) StartNetwork(iteration);

        var where = $"{_prefix} iteration {iteration + 1}, image update {position + 1} of {_outerLoop}";
        var loss = MatchGradients(u, where);
        if (position < _outerLoop - 1) TrainNetwork(u);
        _run.Logger.LogTrace("{Where}: mean distance per class {Loss:G6}", where, loss);
        return loss;
    }

    /// <summary>The iteration's network: fresh, or, on resuming inside an iteration, with the checkpoint's parameters.</summary>
    private void StartNetwork(long iteration)
    {
        _network?.Dispose();
        _network = MatchingNetwork.Create(_run, _options, $"{_prefix}.network", iteration);
        if (_resumedFrom is not null) _network.Restore(_resumedFrom);
        ReleaseCheckpoint();
    }

    /// <summary>One SGD step on the synthetic images along the gradient of Σ_c D(∇θ ℓ(real_c), ∇θ ℓ(syn_c)); returns the mean per class.</summary>
    private double MatchGradients(long u, string where)
    {
        using var scope = NewDisposeScope();
        using var grad = enable_grad(); // the host may call under no_grad; matching needs autograd
        var network = _network!;
        var perClass = _state.PerClass;
        using var batchGenerator = _run.CreateGenerator($"{_prefix}.real-batch", u);
        var rows = tensor(_sampler.Sample(_options.RealBatchSize, batchGenerator), device: _run.Device);
        var real = _run.Train.Images.index_select(0, rows);
        using var augmentGenerator = _augmentation is null ? null : _run.CreateGenerator($"{_prefix}.augment", u);

        var imageGradient = zeros_like(_state.Images);
        var distanceSum = zeros(Array.Empty<long>(), dtype: ScalarType.Float64, device: _run.Device);
        for (var c = 0; c < _state.ClassCount; c++)
        {
            using var classScope = NewDisposeScope(); // one class's activations and graphs at a time
            var realImages = real.narrow(0, c * _options.RealBatchSize, _options.RealBatchSize);
            var synthetic = _state.Images.narrow(0, c * perClass, perClass).detach().requires_grad_(true);
            var syntheticImages = synthetic;
            if (_augmentation is not null)
            {
                using var transform = _augmentation.Sample(augmentGenerator!, 1); // one transform for both: Siamese
                realImages = transform.Apply(realImages);
                syntheticImages = transform.Apply(synthetic);
            }
            var realLoss = nn.functional.cross_entropy(network.Logits(realImages), _realLabels.narrow(0, c * _options.RealBatchSize, _options.RealBatchSize));
            var realGradient = autograd.grad([realLoss], network.Parameters);
            var syntheticLoss = nn.functional.cross_entropy(network.Logits(syntheticImages), _state.Classes.narrow(0, c * perClass, perClass));
            // retain_graph: the distance's backward runs through this graph again (TorchSharp does not default it to create_graph, as PyTorch does).
            var syntheticGradient = autograd.grad([syntheticLoss], network.Parameters, retain_graph: true, create_graph: true);
            var distance = GradientMatchingDistance.Compute(realGradient.ToArray(), syntheticGradient.ToArray());
            var gradient = autograd.grad([distance], [synthetic])[0];
            imageGradient.narrow(0, c * perClass, perClass).copy_(gradient);
            distanceSum.add_(distance.detach().to(ScalarType.Float64), HeldScalars.One);
        }

        var loss = distanceSum.item<double>() / _state.ClassCount;
        if (!double.IsFinite(loss))
            throw new NumericalFailureException($"{where}: the gradient-matching distance became {loss}; {Advice()}");
        _state.Optimizer.Update(imageGradient);
        FiniteCheck.Require(_state.Images, where, "the synthetic images after the SGD update", Advice);
        return loss;
    }

    /// <summary>
    /// Trains the network for <c>innerLoop</c> passes over the detached synthetic set by plain SGD, in shuffled batches of
    /// <c>trainBatchSize</c> (one batch, unshuffled, when the set fits), each image augmented on its own under DSA.
    /// </summary>
    private void TrainNetwork(long u)
    {
        if (_innerLoop == 0) return;
        using var grad = enable_grad();
        var network = _network!;
        var images = _state.Images.detach();
        var count = images.shape[0];
        var batchSize = Math.Min(_options.TrainBatchSize, count);
        using var orderGenerator = _run.CreateGenerator($"{_prefix}.inner-order", u);
        using var augmentGenerator = _augmentation is null ? null : _run.CreateGenerator($"{_prefix}.inner-augment", u);
        using var step = (-_options.NetworkLearningRate).ToScalar(); // held for the native calls (see HeldScalars)
        for (var pass = 0; pass < _innerLoop; pass++)
        {
            using var passScope = NewDisposeScope();
            var order = count > batchSize ? randperm(count, generator: orderGenerator).to(_run.Device) : null;
            for (long start = 0; start < count; start += batchSize)
            {
                using var batchScope = NewDisposeScope();
                var length = Math.Min(batchSize, count - start);
                var batchRows = order?.narrow(0, start, length);
                var batch = batchRows is null ? images : images.index_select(0, batchRows);
                var classes = batchRows is null ? _state.Classes : _state.Classes.index_select(0, batchRows);
                if (_augmentation is not null)
                {
                    using var transform = _augmentation.Sample(augmentGenerator!, length);
                    batch = transform.Apply(batch);
                }
                var loss = nn.functional.cross_entropy(network.Logits(batch), classes);
                var gradients = autograd.grad([loss], network.Parameters);
                using var noGrad = no_grad();
                for (var i = 0; i < gradients.Count; i++) network.Parameters[i].add_(gradients[i], step);
            }
        }
    }

    private string Advice() =>
        $"lower {_run.OptionPath(nameof(_options.ImageLearningRate))} (now {_options.ImageLearningRate:G3}) or " +
        $"{_run.OptionPath(nameof(_options.NetworkLearningRate))} (now {_options.NetworkLearningRate:G3}), or run in float64 (\"dtype\": \"float64\")";

    private void ReleaseCheckpoint()
    {
        if (_resumedFrom is null) return;
        foreach (var tensor in _resumedFrom.Tensors.Values) tensor.Dispose();
        _resumedFrom = null;
    }

    public void Dispose()
    {
        ReleaseCheckpoint();
        _network?.Dispose();
        _realLabels.Dispose();
        _state.Dispose();
    }
}
