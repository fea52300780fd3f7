using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distillery.Abstractions.Augmentation;

/// <summary>
/// One drawn transform of a <see cref="DifferentiableAugmentation"/>: a family and its parameters, applied by
/// <see cref="Apply"/> to any number of batches. Owns its parameter tensors; dispose it.
/// </summary>
/// <remarks>
/// The parameters are made from uniform draws u ∈ [0, 1) (<see cref="Draws"/>); the pixel offsets of crop and cutout are
/// made at <see cref="Apply"/> for the batch's height and width, everything else when drawn. Follows DSA's
/// <c>DiffAugment</c> (Zhao &amp; Bilen, ICML 2021, DatasetCondensation's utils.py), including its grids: scale and
/// rotate use <c>affine_grid</c> and <c>grid_sample</c> with <c>align_corners</c> false.
/// </remarks>
public sealed class AugmentationTransform : IDisposable
{
    private readonly AugmentationSettings _settings;
    private readonly IReadOnlyList<double>[] _draws;
    // Float64 on the CPU, moved to the images' dtype and device by Apply: colour [m, 3] (brightness shift, saturation
    // factor, contrast factor); flip [m] bool; scale and rotate the affine matrices [m, 2, 3]; crop and cutout the draws [m, 2].
    private readonly Tensor _parameters;
    private bool _disposed;

    internal AugmentationTransform(AugmentationKind kind, double[][] draws, AugmentationSettings settings)
    {
        Kind = kind;
        Count = draws.Length;
        _settings = settings;
        _draws = draws.Select(d => (IReadOnlyList<double>)Array.AsReadOnly(d)).ToArray();
        _parameters = Parameters(kind, draws, settings).DetachFromDisposeScope(); // outlives the caller's scope: Dispose frees it
    }

    /// <summary>The family drawn.</summary>
    public AugmentationKind Kind { get; }

    /// <summary>Images with their own parameters: 1 when one set is shared by a whole batch.</summary>
    public long Count { get; }

    /// <summary>
    /// The uniform draws u ∈ [0, 1) behind the parameters, [<see cref="Count"/>][k], in the order they were drawn (each
    /// quantity for every image, then the next). Per family, with the <see cref="AugmentationSettings"/> and, for crop and
    /// cutout, s = round(ratio · side) per axis (round half up, as DSA's <c>int(x + 0.5)</c>):
    /// <list type="bullet">
    /// <item><see cref="AugmentationKind.Color"/> (brightness, saturation, contrast): x + (u₀ − ½)·Brightness; then
    /// m + (x − m)·u₁·Saturation, m the mean over channels; then m + (x − m)·(u₂ + Contrast), m the image's mean.</item>
    /// <item><see cref="AugmentationKind.Crop"/> (rows, columns): shifts t = ⌊u·(2s + 1)⌋ − s; output pixel (y, x) is input
    /// pixel (y + t_rows, x + t_columns), zero where that is outside the image.</item>
    /// <item><see cref="AugmentationKind.Cutout"/> (rows, columns): centre c = ⌊u·(side + 1 − s mod 2)⌋; the rows (columns)
    /// c − ⌊s/2⌋ … c − ⌊s/2⌋ + s − 1 that lie in the image are zeroed in their intersection.</item>
    /// <item><see cref="AugmentationKind.Flip"/> (u): mirrored along the width when u &lt; FlipProbability.</item>
    /// <item><see cref="AugmentationKind.Scale"/> (x, y): s = u·(r − 1/r) + 1/r, r = ScaleRatio; the sampling grid maps
    /// output coordinates (x, y) ∈ [−1, 1]² to input coordinates (sₓ·x, s_y·y).</item>
    /// <item><see cref="AugmentationKind.Rotate"/> (u): θ = (2u − 1)·RotateDegrees degrees; the grid maps (x, y) to
    /// (x cos θ − y sin θ, x sin θ + y cos θ).</item>
    /// </list>
    /// Read-only; for inspection and tests.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<double>> Draws => _draws;

    /// <summary>
    /// The transformed images: [n, C, H, W] in, the same shape, dtype and device out, a differentiable function of
    /// <paramref name="images"/> (crop, cutout and flip move or zero pixels; scale and rotate resample bilinearly with zero
    /// padding; colour is affine per image). The input is not changed; the caller owns the result.
    /// </summary>
    /// <param name="images">[n, C, H, W], float32 or float64, any device; n must equal <see cref="Count"/> unless it is 1.</param>
    /// <exception cref="ArgumentException">Not a 4-dimensional batch, or n differs from a <see cref="Count"/> above 1.</exception>
    public Tensor Apply(Tensor images)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"augmentation applies to floating-point image batches [n, C, H, W]; got {images.dtype} [{string.Join(", ", images.shape)}]", nameof(images));
        var n = images.shape[0];
        if (Count != 1 && n != Count)
            throw new ArgumentException($"this {Kind} transform was drawn for batches of {Count} images (one set of parameters each); got {n}", nameof(images));
        using var scope = NewDisposeScope();
        var result = Kind switch
        {
            AugmentationKind.Color => Colour(images),
            AugmentationKind.Crop => Crop(images),
            AugmentationKind.Cutout => Cutout(images),
            AugmentationKind.Flip => where(_parameters.to(images.device).view(-1, 1, 1, 1), images.flip(3), images),
            _ => Resample(images),
        };
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>Frees the parameter tensors.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _parameters.Dispose();
    }

    /// <summary>The uniforms each image draws for a family (the k of <see cref="Draws"/>).</summary>
    internal static int DrawsPerImage(AugmentationKind kind) => kind switch
    {
        AugmentationKind.Color => 3,
        AugmentationKind.Flip or AugmentationKind.Rotate => 1,
        _ => 2,
    };

    private static Tensor Parameters(AugmentationKind kind, double[][] draws, AugmentationSettings settings)
    {
        var m = draws.Length;
        switch (kind)
        {
            case AugmentationKind.Color:
                return Float64(draws.SelectMany(u => new[]
                {
                    (u[0] - 0.5) * settings.Brightness, u[1] * settings.Saturation, u[2] + settings.Contrast,
                }), m, 3);
            case AugmentationKind.Flip:
                return tensor(draws.Select(u => u[0] < settings.FlipProbability).ToArray(), [m]);
            case AugmentationKind.Scale:
                var r = settings.ScaleRatio;
                return Float64(draws.SelectMany(u => Affine(u[0] * (r - 1 / r) + 1 / r, 0, 0, u[1] * (r - 1 / r) + 1 / r)), m, 2, 3);
            case AugmentationKind.Rotate:
                return Float64(draws.SelectMany(u =>
                {
                    var angle = (2 * u[0] - 1) * settings.RotateDegrees * Math.PI / 180;
                    return Affine(Math.Cos(angle), -Math.Sin(angle), Math.Sin(angle), Math.Cos(angle));
                }), m, 2, 3);
            default: // crop and cutout: their pixel offsets depend on the image size
                return Float64(draws.SelectMany(u => u), m, 2);
        }
    }

    /// <summary>The 2×3 matrix of <c>affine_grid</c> for the linear map [[a, b], [c, d]], no translation.</summary>
    private static double[] Affine(double a, double b, double c, double d) => [a, b, 0, c, d, 0];

    private static Tensor Float64(IEnumerable<double> values, params long[] shape) => tensor(values.ToArray(), shape, ScalarType.Float64);

    /// <summary>Brightness, saturation, contrast in turn, each affine per image (DSA's order).</summary>
    private Tensor Colour(Tensor images)
    {
        var factors = _parameters.to(images.dtype, images.device).view(-1, 3, 1, 1, 1);
        var (brightness, saturation, contrast) = (factors.select(1, 0), factors.select(1, 1), factors.select(1, 2));
        var brightened = images.add(brightness, HeldScalars.One);
        var saturated = AroundMean(brightened, saturation, [1]);
        return AroundMean(saturated, contrast, [1, 2, 3]);
    }

    /// <summary>m + (x − m)·factor, m the mean of x over <paramref name="dimensions"/>.</summary>
    private static Tensor AroundMean(Tensor x, Tensor factor, long[] dimensions)
    {
        var mean = x.mean(dimensions, keepdim: true);
        return x.sub(mean).mul(factor).add(mean, HeldScalars.One);
    }

    /// <summary>
    /// Translation with zero fill as a product with 0/1 selection matrices, rows · x · columnsᵀ: exact, linear, and
    /// per image without a gather.
    /// </summary>
    private Tensor Crop(Tensor images)
    {
        var (height, width) = (images.shape[2], images.shape[3]);
        var rows = Selection(height, Shifts(0, height), images);
        var columns = Selection(width, Shifts(1, width), images);
        return rows.matmul(images).matmul(columns.transpose(2, 3));
    }

    /// <summary>Per image, ⌊u·(2s + 1)⌋ − s for the draw in column <paramref name="axis"/>, s = round(CropRatio · side).</summary>
    private long[] Shifts(int axis, long side)
    {
        var limit = RoundHalfUp(_settings.CropRatio * side);
        return _draws.Select(u => Pick(u[axis], 2 * limit + 1) - limit).ToArray();
    }

    /// <summary>[m, 1, side, side]: row i selects i + shift (none when that is outside 0 … side − 1).</summary>
    private static Tensor Selection(long side, long[] shifts, Tensor like)
    {
        var matrices = new double[shifts.Length * side * side];
        for (var image = 0; image < shifts.Length; image++)
            for (var i = 0L; i < side; i++)
                if (i + shifts[image] is var source && source >= 0 && source < side)
                    matrices[(image * side + i) * side + source] = 1;
        return tensor(matrices, [shifts.Length, 1, side, side], like.dtype).to(like.device);
    }

    /// <summary>Multiplies by a mask that is 0 on each image's square (clipped to the image) and 1 elsewhere.</summary>
    private Tensor Cutout(Tensor images)
    {
        var (height, width) = (images.shape[2], images.shape[3]);
        var (rowSize, columnSize) = (RoundHalfUp(_settings.CutoutRatio * height), RoundHalfUp(_settings.CutoutRatio * width));
        var mask = new double[Count * height * width];
        Array.Fill(mask, 1.0);
        for (var image = 0; image < Count; image++)
        {
            var top = Pick(_draws[image][0], height + 1 - rowSize % 2) - rowSize / 2;
            var left = Pick(_draws[image][1], width + 1 - columnSize % 2) - columnSize / 2;
            for (var y = Math.Max(0, top); y < Math.Min(height, top + rowSize); y++)
                for (var x = Math.Max(0, left); x < Math.Min(width, left + columnSize); x++)
                    mask[(image * height + y) * width + x] = 0;
        }
        return images.mul(tensor(mask, [Count, 1, height, width], images.dtype).to(images.device));
    }

    /// <summary>Scale or rotate: bilinear resampling on the affine grid, zero outside (DSA's grids, align_corners false).</summary>
    private Tensor Resample(Tensor images)
    {
        var theta = _parameters.to(images.dtype, images.device).expand(images.shape[0], 2, 3);
        var grid = F.affine_grid(theta, images.shape, align_corners: false);
        return F.grid_sample(images, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
    }

    /// <summary>⌊u·choices⌋, clamped below <paramref name="choices"/> against rounding: a uniform integer in 0 … choices − 1.</summary>
    private static long Pick(double u, long choices) => Math.Min((long)Math.Floor(u * choices), choices - 1);

    private static long RoundHalfUp(double value) => (long)Math.Floor(value + 0.5);
}
