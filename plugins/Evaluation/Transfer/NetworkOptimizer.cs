using Distillery.Abstractions.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// SGD with momentum and Adam, with L2 weight decay added to the gradient, computed exactly as TorchSharp 0.107's
/// <c>optim.SGD</c> and <c>optim.Adam</c> do (same operations in the same order: the same numbers, bit for bit), with
/// the learning rate passed to every step. Why not TorchSharp's own: their step makes temporary native Scalars
/// (<c>mul_(beta1)</c>, <c>add_(grad, alpha: …)</c>) that a garbage collection on another thread can free while
/// libtorch reads them (issue 13, see <see cref="HeldScalars"/>); here every Scalar is held across its call.
/// The optimiser owns its state tensors (moments, momentum buffers) and frees them on <see cref="Dispose"/>; the
/// parameters stay the network's.
/// </summary>
public abstract class NetworkOptimizer : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly double _weightDecay;
    private readonly IReadOnlyList<Tensor>? _decayTowards;

    /// <param name="parameters">The parameters to update (the caller's; not disposed here).</param>
    /// <param name="weightDecay">λ: the gradient gets λ·(θ − θ_anchor) added.</param>
    /// <param name="decayTowards">θ_anchor, aligned with <paramref name="parameters"/> (same shapes); null: 0, plain L2 decay.</param>
    protected NetworkOptimizer(IEnumerable<Parameter> parameters, double weightDecay, IReadOnlyList<Tensor>? decayTowards)
    {
        _parameters = parameters.ToArray();
        _weightDecay = weightDecay;
        if (decayTowards is not null && decayTowards.Count != _parameters.Length)
            throw new ArgumentException($"{decayTowards.Count} decay anchors for {_parameters.Length} parameters", nameof(decayTowards));
        _decayTowards = decayTowards;
    }

    /// <summary>SGD (momentum 0.9) or Adam (β 0.9, 0.999, ε 1e-8), as <paramref name="optimizer"/> says.</summary>
    /// <param name="optimizer">Which optimiser.</param>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="weightDecay">L2 weight decay λ, added to the gradient.</param>
    /// <param name="decayTowards">
    /// Optional anchors the decay pulls towards instead of 0 (aligned with <paramref name="parameters"/>, owned by the caller):
    /// a centred network's θ₀, as RFAD decays a centred network with λ‖θ − θ₀‖² — decay towards 0 would pull the centred
    /// function towards −f(x; θ₀), a random function.
    /// </param>
    public static NetworkOptimizer Create(TransferOptimizer optimizer, IEnumerable<Parameter> parameters, double weightDecay,
                                          IReadOnlyList<Tensor>? decayTowards = null) => optimizer switch
    {
        TransferOptimizer.Sgd => new MomentumSgd(parameters, weightDecay, decayTowards, momentum: 0.9),
        TransferOptimizer.Adam => new Adam(parameters, weightDecay, decayTowards),
        _ => throw new ArgumentOutOfRangeException(nameof(optimizer), optimizer, null),
    };

    /// <summary>Zeroes the gradient of every parameter that has one.</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in _parameters)
        {
            using var grad = parameter.grad;
            grad?.zero_();
        }
    }

    /// <summary>One update of every parameter with a gradient, at <paramref name="learningRate"/>.</summary>
    public void Step(double learningRate)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        using var weightDecay = _weightDecay.ToScalar();
        for (var i = 0; i < _parameters.Length; i++)
        {
            var grad = _parameters[i].grad;
            if (grad is null) continue;
            if (_weightDecay != 0)
                grad = grad.add(_decayTowards is null ? _parameters[i] : _parameters[i].sub(_decayTowards[i]), weightDecay);
            Update(i, _parameters[i], grad, learningRate);
        }
    }

    /// <summary>Updates parameter <paramref name="index"/> in place from its (weight-decayed) gradient.</summary>
    protected abstract void Update(int index, Parameter parameter, Tensor grad, double learningRate);

    /// <summary>The learning rate after <paramref name="epoch"/> steps of cosine annealing to 0 over <paramref name="totalSteps"/>,
    /// from the rate before it — the recursive form TorchSharp's CosineAnnealingLR uses, so the rates match it exactly.</summary>
    public static double CosineAnnealed(double previous, int epoch, double totalSteps) =>
        epoch == 0 ? previous : (1 + Math.Cos(Math.PI * epoch / totalSteps)) / (1 + Math.Cos(Math.PI * (epoch - 1) / totalSteps)) * previous;

    /// <summary>Frees the optimiser's state tensors (moments, momentum buffers); the parameters stay the network's.</summary>
    public abstract void Dispose();

    /// <summary>SGD with momentum μ (no dampening): b ← g on the first step, then b ← μb + g; θ ← θ − lr·b.</summary>
    private sealed class MomentumSgd(IEnumerable<Parameter> parameters, double weightDecay, IReadOnlyList<Tensor>? decayTowards, double momentum)
        : NetworkOptimizer(parameters, weightDecay, decayTowards)
    {
        private readonly Dictionary<int, Tensor> _buffers = new();

        protected override void Update(int index, Parameter parameter, Tensor grad, double learningRate)
        {
            using var rate = (-learningRate).ToScalar();
            if (!_buffers.TryGetValue(index, out var buffer))
                _buffers[index] = buffer = grad.clone().detach().DetachFromDisposeScope();
            else
            {
                using var mu = momentum.ToScalar();
                buffer.mul_(mu).add_(grad, HeldScalars.One);
            }
            parameter.add_(buffer, rate);
        }

        public override void Dispose()
        {
            foreach (var buffer in _buffers.Values) buffer.Dispose();
        }
    }

    /// <summary>Adam (Kingma &amp; Ba) with PyTorch's placement of ε: θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).</summary>
    private sealed class Adam(IEnumerable<Parameter> parameters, double weightDecay, IReadOnlyList<Tensor>? decayTowards)
        : NetworkOptimizer(parameters, weightDecay, decayTowards)
    {
        private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
        private readonly Dictionary<int, (Tensor Mean, Tensor Square, int Step)> _moments = new();

        protected override void Update(int index, Parameter parameter, Tensor grad, double learningRate)
        {
            if (!_moments.TryGetValue(index, out var moments))
                moments = (zeros_like(parameter).DetachFromDisposeScope(), zeros_like(parameter).DetachFromDisposeScope(), 0);
            var step = moments.Step + 1;
            _moments[index] = moments with { Step = step };
            var biasCorrection1 = 1 - Math.Pow(Beta1, step);
            var biasCorrection2 = 1 - Math.Pow(Beta2, step);
            using var beta1 = Beta1.ToScalar();
            using var gain1 = (1 - Beta1).ToScalar();
            using var beta2 = Beta2.ToScalar();
            using var gain2 = (1 - Beta2).ToScalar();
            using var correction2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var epsilon = Epsilon.ToScalar();
            using var stepSize = (-(learningRate / biasCorrection1)).ToScalar();
            moments.Mean.mul_(beta1).add_(grad, gain1);
            moments.Square.mul_(beta2).addcmul_(grad, grad, gain2);
            var denominator = moments.Square.sqrt().div(correction2).add_(epsilon, HeldScalars.One);
            parameter.addcdiv_(moments.Mean, denominator, stepSize);
        }

        public override void Dispose()
        {
            foreach (var (mean, square, _) in _moments.Values)
            {
                mean.Dispose();
                square.Dispose();
            }
        }
    }
}
