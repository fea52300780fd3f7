using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>The size of a feature map: a state over pixel pairs of an H × W image.</summary>
public readonly record struct Grid(long Height, long Width);

/// <summary>
/// How far, in pixels along each axis, the pixel pairs (p, p′) a layer needs reach: all pairs with
/// |h′ − h| ≤ Rows and |w′ − w| ≤ Columns. (0, 0) is the diagonal p = p′ (what a Flatten readout needs, and all that
/// neural-tangents keeps without pooling); (H − 1, W − 1) is every pair (what GlobalAvgPool needs).
/// </summary>
public readonly record struct PixelReach(long Rows, long Columns);

/// <summary>
/// Covariances over a band of pixel pairs: tensors [..., 2R+1, 2C+1, H, W] for a reach (R, C), whose entry
/// [..., i, j, h, w] is Σ((h, w), (h + i − R, w + j − C)), the pair of pixel p and its partner at offset
/// d = (i − R, j − C). Entries whose partner lies outside the image are kept at exactly zero, which is the zero padding
/// the convolutions need. The offsets come before the positions so that every operation over positions (a
/// convolution, a pool) is an ordinary 2-D operation on the last two axes. Shapes: lead dims [n1, n2] for the pairs of
/// two batches, [n, 1] for each image paired with itself.
/// </summary>
internal static class PixelBand
{
    /// <summary>The reach of a band tensor, from its shape.</summary>
    public static PixelReach Reach(Tensor band) => new((band.shape[^4] - 1) / 2, (band.shape[^3] - 1) / 2);

    /// <summary>
    /// The input layer: Σ(p, p + d) = x1(p)·x2(p + d) / C over the channels, for images [n1, C, H, W] and
    /// [n2, C, H, W] → [n1, n2, D_h, D_w, H, W]; with <paramref name="paired"/>, each image of x1 with the same image of
    /// x2 → [n, 1, D_h, D_w, H, W].
    /// </summary>
    public static Tensor Input(Tensor x1, Tensor x2, PixelReach reach, bool paired)
    {
        using var channels = ((double)x1.shape[1]).ToScalar(); // held for the native calls (see HeldScalars)
        using var scope = NewDisposeScope();
        var partners = AtPartners(x2, reach, fill: 0); // [n2, C, D_h, D_w, H, W]
        var scaled = x1.div(channels); // on the small input, not on the band
        var band = paired
            ? einsum("achw,acijhw->aijhw", scaled, partners).unsqueeze(1)
            : einsum("achw,bcijhw->abijhw", scaled, partners);
        return band.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-pixel values [..., H, W] at each pixel's partners: [..., D_h, D_w, H, W] (a strided view, no copy), with
    /// <paramref name="fill"/> where the partner lies outside the image.
    /// </summary>
    public static Tensor AtPartners(Tensor perPixel, PixelReach reach, double fill)
    {
        var (height, width) = (perPixel.shape[^2], perPixel.shape[^1]);
        var padded = nn.functional.pad(perPixel, [reach.Columns, reach.Columns, reach.Rows, reach.Rows], value: fill);
        var dims = padded.dim();
        return padded.unfold(dims - 2, height, 1).unfold(dims - 1, width, 1); // [..., D_h, D_w, H, W]
    }

    /// <summary>
    /// 1 where the partner lies inside an H × W image, 0 outside: [D_h, D_w, H, W], built on the host (it is small)
    /// in <paramref name="dtype"/> on <paramref name="device"/>. The caller disposes it.
    /// </summary>
    public static Tensor Valid(PixelReach reach, Grid grid, ScalarType dtype, Device device)
    {
        using var rows = AxisValid(reach.Rows, grid.Height, dtype, device, -4, -2);
        using var columns = AxisValid(reach.Columns, grid.Width, dtype, device, -3, -1);
        return rows * columns;
    }

    /// <summary>
    /// A k×k SAME convolution with zero padding, as a sum: Σ_δ Σ(p + δ, p′ + δ) over the k² offsets δ (the caller
    /// divides by k²). Both pixels move by the same δ (weights are i.i.d. across filter taps, so only equal taps
    /// correlate), so the offset p′ − p is unchanged and the operation is a k×k box sum over the positions; it is
    /// separable, so one axis at a time, each tap one in-place add of a shifted view (2-D pooling kernels were 7×
    /// slower here). Entries whose partner lies outside the image are not zero afterwards; the caller masks them.
    /// </summary>
    public static Tensor BoxSum(Tensor band, int size)
    {
        using var scope = NewDisposeScope();
        return ShiftedSum(ShiftedSum(band, band.dim() - 2, size), band.dim() - 1, size).MoveToOuterDisposeScope();
    }

    /// <summary>Σ over the taps t of x(p + t − low) along one axis, zero outside (SAME: an even filter's extra tap is high, as in XLA).</summary>
    private static Tensor ShiftedSum(Tensor band, long dim, int size)
    {
        var length = band.shape[dim];
        var low = (size - 1) / 2;
        var sum = band.clone(); // the centre tap; the others are added in place (a sum's backward needs none of its values)
        for (var tap = 0; tap < size; tap++)
        {
            var shift = tap - low;
            if (shift == 0 || Math.Abs(shift) >= length) continue;
            var overlap = length - Math.Abs(shift);
            sum.narrow(dim, Math.Max(0, -shift), overlap).add_(band.narrow(dim, Math.Max(0, shift), overlap), HeldScalars.One);
        }
        return sum;
    }

    /// <summary>
    /// Average pooling of both pixels over window × window patches with the given stride (VALID): the output pair
    /// (P, P + D) averages the input pairs (sP + a, s(P + D) + b) over a, b in the window, i.e. input offset
    /// sD + b − a. The output's reach is what the input's allows (at most the output size − 1); entries whose partner
    /// lies outside the output are zeroed. One axis at a time (the pool is separable), the second on the smaller tensor.
    /// </summary>
    public static Tensor Pool(Tensor band, int window, int stride)
    {
        using var scope = NewDisposeScope();
        var rows = PoolAxis(band, -4, -2, window, stride);
        return PoolAxis(rows, -3, -1, window, stride).MoveToOuterDisposeScope();
    }

    private static Tensor PoolAxis(Tensor band, long offsetAxis, long positionAxis, int window, int stride)
    {
        var dims = band.dim();
        var (offsetDim, positionDim) = (dims + offsetAxis, dims + positionAxis);
        var length = band.shape[positionDim];
        var reach = (band.shape[offsetDim] - 1) / 2;
        var outLength = (length - window) / stride + 1;
        var outReach = Math.Min((reach - (window - 1)) / stride, outLength - 1);
        if (outReach < 0)
            throw new InvalidOperationException($"A band of reach {reach} cannot feed an average pool of window {window}.");
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        for (var a = 0; a < window; a++)
            for (var b = 0; b < window; b++)
            {
                var firstOffset = reach - stride * outReach + b - a;
                var slice = band
                    .slice(positionDim, a, a + stride * (outLength - 1) + 1, stride)
                    .slice(offsetDim, firstOffset, firstOffset + 2 * stride * outReach + 1, stride);
                sum = sum is null ? slice.clone() : sum.add_(slice, HeldScalars.One); // a sum's backward needs none of its values
            }
        using var count = ((double)window * window).ToScalar(); // held for the native call (see HeldScalars)
        using var valid = AxisValid(outReach, outLength, band.dtype, band.device, offsetAxis, positionAxis);
        return sum!.div_(count).mul_(valid).MoveToOuterDisposeScope();
    }

    /// <summary>The validity of one axis, shaped to broadcast against a band on that axis.</summary>
    private static Tensor AxisValid(long reach, long length, ScalarType dtype, Device device, long offsetAxis, long positionAxis)
    {
        var values = new double[(2 * reach + 1) * length];
        for (long i = 0; i <= 2 * reach; i++)
            for (long p = 0; p < length; p++)
                values[i * length + p] = p + i - reach is var partner && partner >= 0 && partner < length ? 1 : 0;
        long[] shape = [1, 1, 1, 1];
        shape[4 + offsetAxis] = 2 * reach + 1;
        shape[4 + positionAxis] = length;
        return tensor(values, dtype: dtype, device: device).view(shape);
    }

    /// <summary>The same-pixel entries Σ(p, p): [..., D_h, D_w, H, W] → [..., H, W] (a view).</summary>
    public static Tensor Center(Tensor band)
    {
        var reach = Reach(band);
        return band.select(-4, reach.Rows).select(-3, reach.Columns);
    }

    /// <summary>The sum over all stored pairs: [..., D_h, D_w, H, W] → [...] (entries outside the image are zero).</summary>
    public static Tensor SumOfAll(Tensor band) => band.sum([-4, -3, -2, -1]);
}
