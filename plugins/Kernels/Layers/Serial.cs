using Distillery.Abstractions.Plugins;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>Which of the two kernels a network's composition yields.</summary>
public enum KernelOutput
{
    /// <summary>The neural tangent kernel: the network trained to convergence by gradient descent.</summary>
    Ntk,
    /// <summary>The NNGP kernel: only the last layer trained (a Bayesian network's prior covariance).</summary>
    Nngp,
}

/// <summary>
/// A kernel function from a list of layers applied in order (neural-tangents stax.serial). Computed in blocks so that
/// a large kernel (say 10,000 × 100) never holds more than one block of intermediates at a time; within a block, each
/// layer's temporaries are freed once the layer is done (they dominate memory over pixel pairs).
/// <para>The layers say what they need and nothing more is computed (neural-tangents derives the same from each
/// layer's requirements):</para>
/// <list type="bullet">
/// <item>which representation: walking the layers backwards from the flat output, each layer's
/// <see cref="IKernelLayer.InputNeed"/> gives what its input must hold. A Flatten needs only the flat covariance of its
/// input — the same-pixel pairs of a map — each average pool widens that to the pairs within its windows, GlobalAvgPool
/// needs all pairs, a Dense the flat covariance. So the input is read as the flat covariance x·x′/d when the first layer
/// needs no more (a fully-connected network: Flatten or Dense first), and as the band of pixel pairs the walk gives
/// otherwise; no caller chooses;</item>
/// <item>the variances: over pixel pairs, each image's own state (the image paired with itself, through the same
/// layers) is computed once per <see cref="Compute"/>, only up to the last layer that reads variances
/// (<see cref="IKernelLayer.UsesVariances"/>) and on the band those layers need (a ReLU needs only the diagonal,
/// which an average pool widens to its windows); its per-pixel variances are kept where they are read and shared by
/// every block. Over the flat covariance, the states carry their variances.</item>
/// </list>
/// </summary>
/// <param name="layers">The layers, applied in order.</param>
/// <param name="output">Which kernel the composition returns.</param>
/// <param name="blocking">How the kernel matrix (and, over pixel pairs, the images' own states) is tiled.</param>
public sealed class Serial(IReadOnlyList<IKernelLayer> layers, KernelOutput output, KernelBlocking blocking) : IKernelFunction
{
    /// <summary>A composition with at most <paramref name="blockSize"/> images per side per block (right for flat kernels).</summary>
    public Serial(IReadOnlyList<IKernelLayer> layers, KernelOutput output, int blockSize = 8192)
        : this(layers, output, new ImagesPerSide(blockSize))
    {
    }

    /// <summary>The layers, applied in order.</summary>
    public IReadOnlyList<IKernelLayer> Layers { get; } = layers;

    /// <summary>Which kernel the composition returns.</summary>
    public KernelOutput Output { get; } = output;

    /// <summary>How the kernel matrix is tiled into blocks.</summary>
    public KernelBlocking Blocking { get; } = blocking;

    /// <summary>
    /// The representation <see cref="Compute"/> builds of inputs of shape <paramref name="inputShape"/> ([n, C, H, W]
    /// images, or [n, …] read flat): the cheapest that the layers need.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layers do not compose on such inputs.</exception>
    public KernelRepresentation InputRepresentation(long[] inputShape)
    {
        var grids = Grids(inputShape);
        return grids[0] is null ? KernelRepresentation.Flat : InputNeed(grids, own: false)!;
    }

    /// <summary>
    /// K(x1, x2) [n1, n2] for inputs [n1, ...] and [n2, ...] (images [n, C, H, W] are read over pixel pairs unless the
    /// layers need only their flat covariance), on their device and in their dtype, differentiable with respect to both.
    /// The caller owns the result.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layers do not compose (a Dense on images after a spatial layer, a
    /// composition that ends on images, a pool larger than its map).</exception>
    public Tensor Compute(Tensor x1, Tensor x2)
    {
        var grids = Grids(x1.shape);
        if (grids[0] is null)
            return Tiled(x1, x2, (a, b, _, _) => Run(KernelState.FromInputs(a, b), Layers.Count, supply: null));

        using var scope = NewDisposeScope();
        var reach = ((KernelRepresentation.PixelPairs)InputNeed(grids, own: false)!).Reach;
        var own1 = OwnVariances(x1, grids);
        var own2 = ReferenceEquals(x1, x2) ? own1 : OwnVariances(x2, grids); // K(x, x), as in every KIP step
        return Tiled(x1, x2, (a, b, row, column) => Run(KernelState.FromImages(a, b, reach), Layers.Count, (layer, state) => state with
        {
            Variance1 = own1[layer]!.narrow(0, row, a.shape[0]),
            Variance2 = own2[layer]!.narrow(0, column, b.shape[0]).transpose(0, 1),
        })).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The feature map size at each layer's input, and after the last (null: flat). The input is a map for images
    /// [n, C, H, W] unless the first layer needs only its flat covariance (then it is read flat, as x·x′/d).
    /// </summary>
    /// <exception cref="InvalidOperationException">The layers do not compose, or the composition ends on images.</exception>
    private Grid?[] Grids(long[] inputShape)
    {
        var grids = new Grid?[Layers.Count + 1];
        if (inputShape.Length == 4 && Layers.Count > 0)
        {
            var image = new Grid(inputShape[2], inputShape[3]);
            // The flat covariance is the least any layer can need, so a first layer that needs no more for a flat
            // output needs no more whatever follows.
            if (Layers[0].InputNeed(KernelRepresentation.Flat, image) is not KernelRepresentation.FlatCovariance) grids[0] = image;
        }
        for (var i = 0; i < Layers.Count; i++) grids[i + 1] = Layers[i].OutputGrid(grids[i]);
        if (grids[^1] is not null)
            throw new InvalidOperationException("The composition ends on a state over pixel pairs; add Flatten or GlobalAvgPool (and a Dense readout).");
        return grids;
    }

    /// <summary>
    /// What the input layer must hold, walking the layers backwards: for K itself, from the flat output; for an image's
    /// own state (<paramref name="own"/>), from the variances each layer that reads them needs (the diagonal of its
    /// input), and nothing after the last of them. Null when nothing is needed.
    /// </summary>
    private KernelRepresentation? InputNeed(Grid?[] grids, bool own)
    {
        var need = own ? null : KernelRepresentation.Flat;
        for (var i = Layers.Count - 1; i >= 0; i--)
        {
            if (need is { } output) need = Layers[i].InputNeed(output, grids[i]);
            if (own && Layers[i].UsesVariances) need ??= grids[i] is null ? KernelRepresentation.Flat : KernelRepresentation.SamePixel;
        }
        return need;
    }

    /// <summary>
    /// Each image's own state (the image paired with itself), computed once, in chunks of the block budget, up to the
    /// last layer that reads variances and on the band those layers need. Returns, for each layer that reads
    /// variances, the variances of its input, [n, 1, H, W] over pixel pairs or [n, 1] once flat (null for the other
    /// layers), with autograd history, in the caller's dispose scope.
    /// </summary>
    private Tensor?[] OwnVariances(Tensor x, Grid?[] grids)
    {
        var pieces = Layers.Select(_ => new List<Tensor>()).ToArray();
        var readers = Enumerable.Range(0, Layers.Count).Where(i => Layers[i].UsesVariances).ToList();
        if (readers.Count == 0) return new Tensor?[Layers.Count];
        var reach = ((KernelRepresentation.PixelPairs)InputNeed(grids, own: true)!).Reach;
        var n = x.shape[0];
        var chunk = Blocking.BlockShape(n, 1).Rows;
        for (long start = 0; start < n; start += chunk)
        {
            using var scope = NewDisposeScope();
            var images = x.narrow(0, start, Math.Min(chunk, n - start));
            var kept = new List<Tensor>();
            Run(KernelState.FromImages(images, images, reach, paired: true), readers[^1], (layer, state) =>
            {
                // A copy, so that keeping the per-pixel variances does not keep the whole band alive.
                var own = (state.IsSpatial ? PixelBand.Center(state.Nngp) : state.Nngp).clone();
                pieces[layer].Add(own);
                kept.Add(own);
                return state with { Variance1 = own, Variance2 = own };
            });
            foreach (var tensor in kept) tensor.MoveToOuterDisposeScope();
        }
        return pieces.Select(p => p.Count switch { 0 => null, 1 => p[0], _ => cat(p, 0) }).ToArray();
    }

    /// <summary>
    /// Tiles K into blocks of <see cref="Blocking"/>'s shape; <paramref name="block"/> maps (rows of x1, columns of
    /// x2, first row, first column) to the block's final state.
    /// </summary>
    private Tensor Tiled(Tensor x1, Tensor x2, Func<Tensor, Tensor, long, long, KernelState> block)
    {
        var (n1, n2) = (x1.shape[0], x2.shape[0]);
        var (blockRows, blockColumns) = Blocking.BlockShape(n1, n2);
        var rows = new List<Tensor>();
        for (long i = 0; i < n1; i += blockRows)
        {
            using var scope = NewDisposeScope();
            var rowBlock = x1.narrow(0, i, Math.Min(blockRows, n1 - i));
            var columns = new List<Tensor>();
            for (long j = 0; j < n2; j += blockColumns)
            {
                using var blockScope = NewDisposeScope();
                var state = block(rowBlock, x2.narrow(0, j, Math.Min(blockColumns, n2 - j)), i, j);
                columns.Add((Output == KernelOutput.Ntk ? state.NtkOrZeros() : state.Nngp).MoveToOuterDisposeScope());
            }
            rows.Add((columns.Count == 1 ? columns[0] : cat(columns, 1)).MoveToOuterDisposeScope());
        }
        return rows.Count == 1 ? rows[0] : cat(rows, 0);
    }

    /// <summary>
    /// Applies the layers in order up to (not including) layer <paramref name="end"/>, freeing each layer's
    /// temporaries and its input's covariances as it goes. Before each layer that reads variances (up to and including
    /// layer <paramref name="end"/>), <paramref name="supply"/> (when given) sets them; without it the layers carry them
    /// (flat states).
    /// </summary>
    private KernelState Run(KernelState state, int end, Func<int, KernelState, KernelState>? supply)
    {
        for (var i = 0; i <= end && i < Layers.Count; i++)
        {
            if (supply is not null && Layers[i].UsesVariances) state = supply(i, state);
            if (i == end) break;
            KernelState next;
            using (NewDisposeScope()) next = Layers[i].Apply(state).MoveToOuterDisposeScope(state);
            state.DisposeExcept(next); // autograd keeps what it saved; this only drops our handles
            state = next;
        }
        return state;
    }
}
