using Distillery.Abstractions.Numerics;
using Distillery.Kernels.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Reference;

/// <summary>
/// The previous production path of the pixel-pair kernels, kept as a reference for tests and the cost benchmark:
/// every layer holds Σ, Θ over all pixel pairs [b1, b2, H, W, H, W] and each image's full self-covariance
/// [b, H, W, H, W], recomputed in every block (neural-tangents' full spatial covariance). It reads only the
/// parameters of the layer records, so it checks <see cref="Serial"/> on the same layer list. Differentiable with
/// respect to both inputs; tensors are on the inputs' device and dtype; the caller owns the result.
/// </summary>
public sealed class FullPixelPairKernel(IReadOnlyList<IKernelLayer> layers, KernelOutput output, long pairsPerBlock)
{
    /// <summary>The reference for a kernel built by <see cref="Serial"/> (same layers, output and pairs per block).</summary>
    public FullPixelPairKernel(Serial kernel)
        : this(kernel.Layers, kernel.Output, kernel.Blocking is PairsPerBlock pairs ? pairs.Pairs : 9)
    {
    }

    /// <summary>K(x1, x2) [n1, n2] for images [n1, C, H, W] and [n2, C, H, W].</summary>
    public Tensor Compute(Tensor x1, Tensor x2)
    {
        var (n1, n2) = (x1.shape[0], x2.shape[0]);
        var (blockRows, blockColumns) = new PairsPerBlock(pairsPerBlock).BlockShape(n1, n2);
        var rows = new List<Tensor>();
        for (long i = 0; i < n1; i += blockRows)
        {
            using var scope = NewDisposeScope();
            var rowBlock = x1.narrow(0, i, Math.Min(blockRows, n1 - i));
            var columns = new List<Tensor>();
            for (long j = 0; j < n2; j += blockColumns)
                columns.Add(ComputeBlock(rowBlock, x2.narrow(0, j, Math.Min(blockColumns, n2 - j))));
            rows.Add(cat(columns, 1).MoveToOuterDisposeScope());
        }
        return cat(rows, 0);
    }

    /// <summary>Σ, Θ [b1, b2, H, W, H, W] (or [b1, b2] once flat) and the self-covariances (or variances).</summary>
    private sealed record State(Tensor Nngp, Tensor Ntk, Tensor Self1, Tensor Self2)
    {
        public bool IsSpatial => Nngp.dim() == 6;
        public IEnumerable<Tensor> Tensors => [Nngp, Ntk, Self1, Self2];
    }

    private Tensor ComputeBlock(Tensor x1, Tensor x2)
    {
        using var scope = NewDisposeScope();
        using var channels = ((double)x1.shape[1]).ToScalar();
        var nngp = einsum("aihw,bijk->abhwjk", x1, x2).div(channels);
        var state = new State(nngp, zeros_like(nngp),
            einsum("aihw,aijk->ahwjk", x1, x1).div(channels), einsum("aihw,aijk->ahwjk", x2, x2).div(channels));
        foreach (var layer in layers)
        {
            State next;
            using (var inner = NewDisposeScope())
            {
                next = Apply(layer, state);
                foreach (var tensor in next.Tensors.Except(state.Tensors, ReferenceEqualityComparer.Instance).Cast<Tensor>())
                    tensor.MoveToOuterDisposeScope();
            }
            foreach (var tensor in state.Tensors.Except(next.Tensors, ReferenceEqualityComparer.Instance).Cast<Tensor>())
                tensor.Dispose();
            state = next;
        }
        if (state.IsSpatial) throw new InvalidOperationException("The composition ends on a state over pixel pairs; add Flatten or GlobalAvgPool.");
        return (output == KernelOutput.Ntk ? state.Ntk : state.Nngp).MoveToOuterDisposeScope();
    }

    private static State Apply(IKernelLayer layer, State s) => layer switch
    {
        Conv conv => Map(s, c => Convolve(c, conv.Size), conv.WeightStd, conv.BiasStd),
        Dense dense when !s.IsSpatial => Map(s, c => c.clone(), dense.WeightStd, dense.BiasStd),
        Relu => s.IsSpatial ? ReluSpatial(s) : ReluFlat(s),
        AvgPool pool => Each(s, c => AveragePool(c, pool.Window, pool.Stride)),
        Flatten => s.IsSpatial ? Each(s, MeanOfDiagonal) : s,
        GlobalAvgPool => Each(s, c => c.mean([-4, -3, -2, -1])),
        _ => throw new NotSupportedException($"{layer} on this state"),
    };

    /// <summary>Σ′ = W²·op(Σ) + b², Θ′ = W²·op(Θ) + Σ′, self-covariances like Σ (Conv with op = mean over offsets; Dense with op = identity).</summary>
    private static State Map(State s, Func<Tensor, Tensor> op, double weightStd, double biasStd)
    {
        using var w2 = (weightStd * weightStd).ToScalar();
        using var b2 = (biasStd * biasStd).ToScalar();
        Tensor Affine(Tensor c) => op(c).mul_(w2).add_(b2, HeldScalars.One);
        var nngp = Affine(s.Nngp);
        return new State(nngp, op(s.Ntk).mul_(w2).add_(nngp, HeldScalars.One), Affine(s.Self1), Affine(s.Self2));
    }

    private static State Each(State s, Func<Tensor, Tensor> op) => new(op(s.Nngp), op(s.Ntk), op(s.Self1), op(s.Self2));

    private static State ReluFlat(State s)
    {
        var (nngp, complement) = ArcCosine(s.Nngp, s.Self1.unsqueeze(1), s.Self2.unsqueeze(0));
        using var two = 2.0.ToScalar();
        return new State(nngp, s.Ntk * complement, s.Self1.div(two), s.Self2.div(two));
    }

    private static State ReluSpatial(State s)
    {
        var q1 = Diagonal(s.Self1);
        var q2 = Diagonal(s.Self2);
        var (n1, h, w) = (q1.shape[0], q1.shape[1], q1.shape[2]);
        var n2 = q2.shape[0];
        var (nngp, complement) = ArcCosine(s.Nngp, q1.view(n1, 1, h, w, 1, 1), q2.view(1, n2, 1, 1, h, w));
        Tensor Self(Tensor c, Tensor q) => ArcCosine(c, q.view(q.shape[0], h, w, 1, 1), q.view(q.shape[0], 1, 1, h, w)).Nngp;
        return new State(nngp, s.Ntk * complement, Self(s.Self1, q1), Self(s.Self2, q2));
    }

    private static (Tensor Nngp, Tensor Complement) ArcCosine(Tensor nngp, Tensor q1, Tensor q2)
    {
        using var scope = NewDisposeScope();
        using var pi = Math.PI.ToScalar();
        using var twoPi = (2 * Math.PI).ToScalar();
        using var zero = 0.0.ToScalar();
        using var gap = (q1 * q2).sub_(nngp.mul(nngp));
        using var notPositive = gap.gt(zero).logical_not_();
        var sine = gap.masked_fill(notPositive, HeldScalars.One).sqrt().masked_fill(notPositive, zero);
        var complement = atan2(sine, nngp).neg_().add_(pi, HeldScalars.One).div_(twoPi);
        var result = (complement * nngp).add_(sine.div(twoPi), HeldScalars.One);
        return (result.MoveToOuterDisposeScope(), complement.MoveToOuterDisposeScope());
    }

    private static Tensor Diagonal(Tensor covariance)
    {
        var (h, w) = (covariance.shape[^4], covariance.shape[^3]);
        var lead = covariance.shape[..^4];
        return covariance.reshape([.. lead, h * w, h * w]).diagonal(0, -2, -1).reshape([.. lead, h, w]);
    }

    private static Tensor MeanOfDiagonal(Tensor covariance) => Diagonal(covariance).mean([-2, -1]);

    private static Tensor AveragePool(Tensor covariance, int window, int stride)
    {
        var result = covariance;
        foreach (var axis in new long[] { -4, -3, -2, -1 })
            result = result.unfold(result.dim() + axis, window, stride).mean([-1]);
        return result;
    }

    /// <summary>mean_δ Σ(p + δ, p′ + δ) over the k² offsets, zero padded (SAME; the extra row of an even k goes high).</summary>
    private static Tensor Convolve(Tensor covariance, int size)
    {
        using var scope = NewDisposeScope();
        return ShiftedMean(ShiftedMean(covariance, -4, -2, size), -3, -1, size).MoveToOuterDisposeScope();
    }

    private static Tensor ShiftedMean(Tensor covariance, long axis, long partnerAxis, int size)
    {
        var length = covariance.shape[^(int)-axis];
        var padLow = (size - 1) / 2;
        var padding = new long[8];
        padding[2 * (-axis - 1)] = padLow;
        padding[2 * (-axis - 1) + 1] = size - 1 - padLow;
        padding[2 * (-partnerAxis - 1)] = padLow;
        padding[2 * (-partnerAxis - 1) + 1] = size - 1 - padLow;
        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(covariance, padding);
        var dims = covariance.dim();
        Tensor? sum = null;
        for (var i = 0; i < size; i++)
        {
            var shifted = padded.narrow(dims + axis, i, length).narrow(dims + partnerAxis, i, length);
            sum = sum is null ? shifted.clone() : sum.add_(shifted, HeldScalars.One);
        }
        using var count = ((double)size).ToScalar();
        return sum!.div_(count).MoveToOuterDisposeScope();
    }
}
