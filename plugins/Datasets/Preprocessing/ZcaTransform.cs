using Distillery.Abstractions.Numerics;
using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Datasets;

/// <summary>
/// The fitted ZCA transform (see <see cref="ZcaPreprocessor"/>). Forward: optional per-image layer norm, then
/// z = (x − μ) W. Inverse: x = z W⁻¹ + μ, which is exact without layer norm. With layer norm each image's own mean
/// and norm are gone (they are not stored, and a new image — a distilled one — never had any), so Inverse instead
/// returns a displayable image: unwhitened, then min–max rescaled per image to [0, 1] (a constant image becomes 0.5).
/// The matrices are kept in float64 and cast to each input's dtype and device, so outputs match inputs.
/// </summary>
public sealed class ZcaTransform : IImageTransform, IDisposable
{
    // Forward/Inverse work on row chunks when no gradient is needed, so a 50,000-image set needs no extra full copy.
    private const long Chunk = 4096;

    private readonly Tensor _mean;
    private readonly Tensor _whitening;
    private readonly Tensor _unwhitening;
    private readonly Tensor _layerNormFlag;
    private readonly long[] _imageShape;

    /// <param name="mean">Training feature mean μ [d] (after layer norm when it is on).</param>
    /// <param name="whitening">W = U (S + ridge)^(-1/2) Uᵀ [d, d], symmetric.</param>
    /// <param name="unwhitening">W⁻¹ = U (S + ridge)^(1/2) Uᵀ [d, d], symmetric.</param>
    /// <param name="imageShape">[C, H, W] of the training images, d = C·H·W.</param>
    public ZcaTransform(Tensor mean, Tensor whitening, Tensor unwhitening, bool layerNorm, long[] imageShape)
    {
        _mean = mean.detach().to_type(ScalarType.Float64).clone().DetachFromDisposeScope();
        _whitening = whitening.detach().to_type(ScalarType.Float64).clone().DetachFromDisposeScope();
        _unwhitening = unwhitening.detach().to_type(ScalarType.Float64).clone().DetachFromDisposeScope();
        // Saved with the state so that the files alone say which Forward was applied.
        _layerNormFlag = tensor(new[] { layerNorm ? 1.0 : 0.0 }, ScalarType.Float64).DetachFromDisposeScope();
        LayerNormApplied = layerNorm;
        _imageShape = imageShape;
        State = new Dictionary<string, Tensor>
        {
            ["mean"] = _mean, ["whitening"] = _whitening, ["unwhitening"] = _unwhitening, ["layerNorm"] = _layerNormFlag,
        };
    }

    public bool LayerNormApplied { get; }

    public IReadOnlyDictionary<string, Tensor> State { get; }

    /// <summary>Per row: subtract the row's mean, divide by the row's L2 norm (rows of norm 0 stay 0).</summary>
    public static Tensor LayerNorm(Tensor flat)
    {
        var centred = flat - flat.mean([1L], keepdim: true);
        var norm = centred.norm(1, keepdim: true);
        using var tiny = 1e-30.ToScalar(); // held for the native call (see HeldScalars)
        return centred / norm.clamp_min(tiny);
    }

    public Tensor Forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var flat = Flatten(images);
        var mean = _mean.to(images.dtype, images.device);
        var whitening = _whitening.to(images.dtype, images.device);
        var z = MapRows(flat, rows => (LayerNormApplied ? LayerNorm(rows) : rows).sub(mean).matmul(whitening));
        return z.reshape(images.shape).MoveToOuterDisposeScope();
    }

    public Tensor Inverse(Tensor images)
    {
        using var scope = NewDisposeScope();
        var flat = Flatten(images);
        var mean = _mean.to(images.dtype, images.device);
        var unwhitening = _unwhitening.to(images.dtype, images.device);
        var x = MapRows(flat, rows =>
        {
            var unwhitened = rows.matmul(unwhitening).add_(mean, HeldScalars.One);
            return LayerNormApplied ? RescaleToUnit(unwhitened) : unwhitened;
        });
        return x.reshape(images.shape).MoveToOuterDisposeScope();
    }

    /// <summary>Min–max per row to [0, 1]; a constant row becomes 0.5.</summary>
    private static Tensor RescaleToUnit(Tensor rows)
    {
        var min = rows.amin([1L], keepdim: true);
        var range = rows.amax([1L], keepdim: true) - min;
        using var zero = 0.0.ToScalar(); // held for the native calls (see HeldScalars)
        using var half = 0.5.ToScalar();
        var flat = range.eq(zero);
        return ((rows - min) / range.masked_fill(flat, HeldScalars.One)).masked_fill(flat, half);
    }

    private Tensor Flatten(Tensor images)
    {
        if (images.dim() != 4 || !images.shape.AsSpan(1).SequenceEqual(_imageShape))
            throw new DistilleryException(
                $"zca: fitted on images [N, {string.Join(", ", _imageShape)}], cannot transform shape [{string.Join(", ", images.shape)}]");
        if (!images.is_floating_point())
            throw new DistilleryException($"zca: expected floating-point images, got {images.dtype}");
        return images.reshape(images.shape[0], -1);
    }

    /// <summary>Applies a row-wise map, in chunks written to one output when no gradient flows (bounded memory).</summary>
    private static Tensor MapRows(Tensor flat, Func<Tensor, Tensor> map)
    {
        var n = flat.shape[0];
        if (n <= Chunk || (flat.requires_grad && is_grad_enabled())) return map(flat);
        var output = empty_like(flat);
        for (long start = 0; start < n; start += Chunk)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(Chunk, n - start);
            output.narrow(0, start, length).copy_(map(flat.narrow(0, start, length)));
        }
        return output;
    }

    public void Dispose()
    {
        _mean.Dispose();
        _whitening.Dispose();
        _unwhitening.Dispose();
        _layerNormFlag.Dispose();
    }
}
