namespace Distillery.Kernels.Layers;

/// <summary>
/// Average pooling over window × window patches with the given stride (VALID padding) on a state over pixel pairs
/// (neural-tangents stax.AvgPool): both pixels of Σ and Θ are averaged over their windows. No weights, so Θ pools like
/// Σ. An output pair at offset D needs the input pairs at offsets s·D − (window − 1) … s·D + (window − 1).
/// </summary>
public sealed record AvgPool(int Window, int Stride) : IKernelLayer
{
    /// <inheritdoc/>
    public KernelState Apply(KernelState input)
    {
        if (!input.IsSpatial)
            throw new InvalidOperationException("AvgPool needs a kernel state over pixel pairs (images), not a flat one.");
        var nngp = PixelBand.Pool(input.Nngp, Window, Stride);
        var ntk = input.Ntk is null ? null : ReferenceEquals(input.Ntk, input.Nngp) ? nngp : PixelBand.Pool(input.Ntk, Window, Stride);
        return new KernelState(nngp, ntk, null, null);
    }

    /// <inheritdoc/>
    public Grid? OutputGrid(Grid? input)
    {
        if (input is not { } grid)
            throw new InvalidOperationException("AvgPool needs a kernel state over pixel pairs (images), not a flat one.");
        if (grid.Height < Window || grid.Width < Window)
            throw new InvalidOperationException($"AvgPool {Window}×{Window} does not fit a {grid.Height}×{grid.Width} feature map; use fewer pooled layers or larger images.");
        return new Grid((grid.Height - Window) / Stride + 1, (grid.Width - Window) / Stride + 1);
    }

    /// <inheritdoc/>
    public KernelRepresentation InputNeed(KernelRepresentation output, Grid? input)
    {
        if (input is not { } grid)
            throw new InvalidOperationException("AvgPool needs a kernel state over pixel pairs (images), not a flat one.");
        var reach = output.ReachOnMap;
        return new KernelRepresentation.PixelPairs(new PixelReach(
            Math.Min(Stride * reach.Rows + Window - 1, grid.Height - 1),
            Math.Min(Stride * reach.Columns + Window - 1, grid.Width - 1)));
    }

    /// <inheritdoc/>
    public bool UsesVariances => false;
}
