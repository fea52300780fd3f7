using Distillery.Abstractions;
using static TorchSharp.torch;

namespace Distillery.Datasets;

/// <summary>What the preprocessors share when fitting on the training images.</summary>
internal static class FittingImages
{
    /// <summary>Training images must be a non-empty floating-point [N, C, H, W] batch.</summary>
    public static void Validate(string preprocessor, Tensor images)
    {
        if (images.dim() != 4)
            throw new DistilleryException(
                $"{preprocessor}: expected training images [N, C, H, W], got shape [{string.Join(", ", images.shape)}]");
        if (images.shape[0] == 0)
            throw new DistilleryException($"{preprocessor}: cannot fit on an empty training set");
        if (!images.is_floating_point())
            throw new DistilleryException($"{preprocessor}: expected floating-point images, got {images.dtype}");
    }

    /// <summary>
    /// Runs <paramref name="accumulate"/> on float64 copies of consecutive chunks of rows (summing millions of float32
    /// values loses digits), freeing each chunk's temporaries so memory stays bounded however large the set.
    /// </summary>
    public static void ForEachFloat64Chunk(Tensor rows, long chunk, Action<Tensor> accumulate)
    {
        for (long start = 0; start < rows.shape[0]; start += chunk)
        {
            using var scope = NewDisposeScope();
            accumulate(rows.narrow(0, start, Math.Min(chunk, rows.shape[0] - start)).to_type(ScalarType.Float64));
        }
    }
}
