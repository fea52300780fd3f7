using Distillery.Abstractions.Plugins;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// The features φ(x) of one fixed image set (the training set, the test set) under a <see cref="IFeatureMapKernel"/>'s
/// current map, computed once — without gradients, <see cref="ChunkSize"/> images at a time — and then read by index:
/// a KIP step takes its target batch's rows (K_ts = φ_t φ_sᵀ + c) instead of pushing the batch through the kernel.
/// When the kernel's <see cref="IFeatureMapKernel.FeatureMapId"/> changes (a redraw), the next read recomputes all.
/// </summary>
/// <remarks>
/// Memory: rows × F values of <see cref="IFeatureMapKernel.FeatureStorageType"/> (or the compute dtype), on the images'
/// device, e.g. 60,000 × 9,216 float32 = 2.2 GB for 8 random ConvNets of width 128 at depth 3 on 28×28 images
/// (1.1 GB in float16); while it fills, one chunk's activations more. Reads are upcast to the compute dtype.
/// The cache does not own the images (the caller keeps them alive and unchanged); it owns its stored features and
/// frees them on <see cref="Dispose"/>. Not thread-safe: one run's algorithm or evaluator uses it at a time.
/// Every feature comes from the same chunking whatever was read before, so results do not depend on history
/// (a resumed run reads exactly what an uninterrupted one did).
/// </remarks>
public sealed class FeatureCache : IDisposable
{
    private Tensor? stored;
    private string? storedMapId;

    /// <param name="kernel">The kernel whose features are cached; its current map is read at every access.</param>
    /// <param name="images">The fixed image set [N, C, H, W], on any device; not copied and not owned.</param>
    /// <param name="computeType">The dtype features are computed in and read as (the run's dtype; each chunk of images is converted to it).</param>
    /// <param name="chunkSize">Images per forward pass while filling (bounds the transient memory).</param>
    public FeatureCache(IFeatureMapKernel kernel, Tensor images, ScalarType computeType, long chunkSize = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        Kernel = kernel;
        Images = images;
        ComputeType = computeType;
        ChunkSize = chunkSize;
    }

    /// <summary>The kernel whose features are cached (not owned).</summary>
    public IFeatureMapKernel Kernel { get; }

    /// <summary>The fixed image set [N, C, H, W] (not owned; must not change while the cache is used).</summary>
    public Tensor Images { get; }

    /// <summary>The dtype features are computed in and read as.</summary>
    public ScalarType ComputeType { get; }

    /// <summary>Images per forward pass while filling.</summary>
    public long ChunkSize { get; }

    /// <summary>Images in the set.</summary>
    public long Count => Images.shape[0];

    /// <summary>Whether the stored features are those of the kernel's current map (false before the first read).</summary>
    public bool IsCurrent => stored is not null && storedMapId == Kernel.FeatureMapId;

    /// <summary>How many times the whole set has been computed (a redraw forces one more): for tests and logs.</summary>
    public int Fills { get; private set; }

    /// <summary>
    /// The features [k, F] (compute dtype, on the images' device, no gradient) of the images at <paramref name="indices"/>
    /// (int64 [k], on the images' device); the caller owns the result. Fills the cache first when it is stale.
    /// </summary>
    /// <param name="indices">Indices into the set, int64 [k], on the images' device.</param>
    /// <returns>A new tensor [k, F] in <see cref="ComputeType"/>, owned by the caller.</returns>
    public Tensor Rows(Tensor indices) => Upcast(Current().index_select(0, indices));

    /// <summary>The features [length, F] of images start … start + length − 1 (see <see cref="Rows"/>).</summary>
    /// <param name="start">The first image's index.</param>
    /// <param name="length">How many images.</param>
    /// <returns>A new tensor [length, F] in <see cref="ComputeType"/>, owned by the caller.</returns>
    public Tensor Slice(long start, long length) => Upcast(Current().narrow(0, start, length));

    private Tensor Upcast(Tensor rows) => rows.dtype == ComputeType ? rows : rows.to(ComputeType);

    private Tensor Current()
    {
        if (IsCurrent) return stored!;
        stored?.Dispose();
        stored = null;
        var mapId = Kernel.FeatureMapId;
        stored = Fill();
        storedMapId = mapId;
        Fills++;
        return stored;
    }

    private Tensor Fill()
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var storage = Kernel.FeatureStorageType ?? ComputeType;
        Tensor? all = null;
        for (long start = 0; start < Count; start += ChunkSize)
        {
            using var chunkScope = NewDisposeScope();
            var length = Math.Min(ChunkSize, Count - start);
            var features = Kernel.Features(Images.narrow(0, start, length).to(ComputeType));
            // Allocated once the feature count is known; written chunk by chunk, so the peak is the store plus one chunk.
            all ??= empty([Count, features.shape[1]], dtype: storage, device: features.device).MoveToOuterDisposeScope();
            all.narrow(0, start, length).copy_(features);
        }
        return (all ?? empty([0, 0], dtype: storage, device: Images.device)).DetachFromDisposeScope();
    }

    /// <summary>Frees the stored features; the next read would compute them again.</summary>
    public void Dispose()
    {
        stored?.Dispose();
        stored = null;
        storedMapId = null;
    }
}

/// <summary>
/// The feature caches of one run, so that work repeated across calls — the periodic evaluations of a KIP run, each
/// over the whole test set — computes a fixed image set's features once per map. The host creates one per run and
/// disposes it (and every cache in it) when the run ends; plugins get it as <see cref="Runs.RunContext.FeatureCaches"/>.
/// </summary>
public sealed class FeatureCaches : IDisposable
{
    private readonly List<FeatureCache> caches = [];

    /// <summary>
    /// The cache of <paramref name="images"/> (the same tensor object, which must not change while the run lasts)
    /// under <paramref name="kernel"/> in <paramref name="computeType"/>, created empty on first request. Owned by this
    /// set: callers do not dispose it.
    /// </summary>
    /// <param name="kernel">The kernel (compared by reference).</param>
    /// <param name="images">The image set [N, C, H, W] (compared by reference: pass the context's tensor itself, not a copy).</param>
    /// <param name="computeType">The dtype the features are read as.</param>
    /// <returns>The cache, shared with every other caller that asks for the same three.</returns>
    public FeatureCache For(IFeatureMapKernel kernel, Tensor images, ScalarType computeType)
    {
        var cache = caches.Find(c => ReferenceEquals(c.Kernel, kernel) && ReferenceEquals(c.Images, images) && c.ComputeType == computeType);
        if (cache is null)
        {
            cache = new FeatureCache(kernel, images, computeType);
            caches.Add(cache);
        }
        return cache;
    }

    /// <summary>Disposes every cache of the set (the host does, when the run ends).</summary>
    public void Dispose()
    {
        foreach (var cache in caches) cache.Dispose();
        caches.Clear();
    }
}
