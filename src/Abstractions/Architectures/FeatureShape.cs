namespace Distillery.Abstractions.Architectures;

/// <summary>
/// The shape of one example's activations between two layers of an <see cref="Architecture"/> (the batch axis left
/// out): images C × H × W, or a flat vector of <see cref="Channels"/> features (then Height = Width = 1 and
/// <see cref="IsFlat"/>).
/// </summary>
/// <param name="Channels">Channels of an image, or the features of a vector.</param>
/// <param name="Height">Image height in pixels (1 for a vector).</param>
/// <param name="Width">Image width in pixels (1 for a vector).</param>
/// <param name="IsFlat">True for a vector [features], false for an image [C, H, W] (a 1×1 image is not a vector:
/// a convolution takes the one and refuses the other).</param>
public readonly record struct FeatureShape(long Channels, long Height, long Width, bool IsFlat)
{
    /// <summary>An image of <paramref name="channels"/> × <paramref name="height"/> × <paramref name="width"/>.</summary>
    public static FeatureShape Image(long channels, long height, long width) => new(channels, height, width, false);

    /// <summary>A flat vector of <paramref name="features"/> features.</summary>
    public static FeatureShape Vector(long features) => new(features, 1, 1, true);

    /// <summary>The shape of one example of a batch <paramref name="shape"/>: [n, C, H, W] is an image, [n, d] a vector.</summary>
    /// <exception cref="ArgumentException">Any other rank.</exception>
    public static FeatureShape OfBatch(IReadOnlyList<long> shape) => shape.Count switch
    {
        4 => Image(shape[1], shape[2], shape[3]),
        2 => Vector(shape[1]),
        _ => throw new ArgumentException($"a batch is [n, C, H, W] (images) or [n, d] (vectors); got [{string.Join(", ", shape)}]", nameof(shape)),
    };

    /// <summary>Values per example: C·H·W.</summary>
    public long Size => Channels * Height * Width;

    /// <inheritdoc/>
    public override string ToString() => IsFlat ? $"[{Channels}]" : $"[{Channels}, {Height}, {Width}]";
}
