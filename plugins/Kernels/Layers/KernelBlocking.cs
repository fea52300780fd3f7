namespace Distillery.Kernels.Layers;

/// <summary>How <see cref="Serial"/> tiles a kernel matrix K(x1, x2) into blocks computed one at a time.</summary>
public abstract record KernelBlocking
{
    /// <summary>Rows × columns of one block for an [n1, n2] kernel (never more than n1 × n2).</summary>
    public abstract (long Rows, long Columns) BlockShape(long n1, long n2);
}

/// <summary>
/// At most <paramref name="Images"/> images from each side per block: right for flat kernels, whose block memory
/// is dominated by the inputs and the [b, b] outputs.
/// </summary>
public sealed record ImagesPerSide(int Images) : KernelBlocking
{
    public override (long Rows, long Columns) BlockShape(long n1, long n2) => (Math.Min(n1, Images), Math.Min(n2, Images));
}

/// <summary>
/// At most <paramref name="Pairs"/> image pairs (rows × columns) per block: right for kernels over pixel pairs,
/// whose memory grows with the number of pairs. Blocks are as square as the matrix allows, which keeps the per-block
/// copies of the rows' and columns' per-pixel variances small. <see cref="Serial"/> also computes each image's own
/// state in chunks of <paramref name="Pairs"/> images.
/// </summary>
public sealed record PairsPerBlock(long Pairs) : KernelBlocking
{
    public override (long Rows, long Columns) BlockShape(long n1, long n2)
    {
        var side = Math.Max(1, (long)Math.Sqrt(Pairs));
        var rows = Math.Min(n1, side);
        var columns = Math.Min(n2, Math.Max(1, Pairs / rows));
        rows = Math.Min(n1, Math.Max(1, Pairs / columns)); // use what a short side left over
        return (rows, columns);
    }
}
