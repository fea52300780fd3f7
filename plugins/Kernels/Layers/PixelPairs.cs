using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// Operations on covariances over pixel pairs: tensors [..., H, W, H, W] indexed (…, p, p′) with p = (h, w).
/// Every operation here is separable: it acts on the row pair (h, h′) and the column pair (w, w′) independently,
/// so it is applied as two (or four) cheap one-axis passes rather than one pass over all offsets.
/// </summary>
internal static class PixelPairs
{
    /// <summary>The per-pixel variances Σ(p, p): [..., H, W, H, W] → [..., H, W].</summary>
    public static Tensor Diagonal(Tensor covariance)
    {
        var (height, width) = Size(covariance);
        var lead = covariance.shape[..^4];
        var pixels = height * width;
        return covariance.reshape([.. lead, pixels, pixels]).diagonal(0, -2, -1).reshape([.. lead, height, width]);
    }

    /// <summary>
    /// A k×k SAME convolution with zero padding: mean_δ Σ(p + δ, p′ + δ) over all k² offsets δ, with Σ = 0 outside
    /// the image. Both pixels move by the same δ because the same weight multiplies both (weights are i.i.d. across
    /// offsets, so only equal offsets correlate).
    /// </summary>
    public static Tensor Convolve(Tensor covariance, int size)
    {
        using var scope = NewDisposeScope(); // frees the intermediate at once: these tensors are b1·b2·(HW)² large
        var rows = ShiftedMean(covariance, -4, -2, size);
        return ShiftedMean(rows, -3, -1, size).MoveToOuterDisposeScope();
    }

    /// <summary>Average pooling of both pixel indices over window × window patches with the given stride (VALID).</summary>
    public static Tensor AveragePool(Tensor covariance, int window, int stride)
    {
        var result = covariance;
        foreach (var axis in new long[] { -4, -3, -2, -1 })
            result = result.unfold(result.dim() + axis, window, stride).mean([-1]);
        return result;
    }

    /// <summary>The mean of the diagonal (p = p′) entries: [..., H, W, H, W] → [...].</summary>
    public static Tensor MeanOfDiagonal(Tensor covariance) => Diagonal(covariance).mean([-2, -1]);

    /// <summary>The mean over all pixel pairs: [..., H, W, H, W] → [...].</summary>
    public static Tensor MeanOfAll(Tensor covariance) => covariance.mean([-4, -3, -2, -1]);

    /// <summary>mean over i in 0..k−1 of Σ shifted by (i − padLow) along both axes, with zeros padded in.</summary>
    private static Tensor ShiftedMean(Tensor covariance, long axis, long partnerAxis, int size)
    {
        var length = covariance.shape[^(int)-axis];
        var padLow = (size - 1) / 2; // SAME: the extra row of an even kernel goes on the high side, as in XLA
        var padHigh = size - 1 - padLow;
        var padding = new long[8]; // pairs from the last axis backwards
        padding[2 * (-axis - 1)] = padLow;
        padding[2 * (-axis - 1) + 1] = padHigh;
        padding[2 * (-partnerAxis - 1)] = padLow;
        padding[2 * (-partnerAxis - 1) + 1] = padHigh;
        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(covariance, padding);
        var dims = covariance.dim();
        Tensor? sum = null;
        for (var i = 0; i < size; i++)
        {
            var shifted = padded.narrow(dims + axis, i, length).narrow(dims + partnerAxis, i, length);
            sum = sum is null ? shifted.clone() : sum.add_(shifted, HeldScalars.One);
        }
        using var count = ((double)size).ToScalar(); // held for the native call (see HeldScalars)
        return sum!.div_(count).MoveToOuterDisposeScope(); // in place: a sum's backward needs none of its values
    }

    private static (long Height, long Width) Size(Tensor covariance) => (covariance.shape[^4], covariance.shape[^3]);
}
