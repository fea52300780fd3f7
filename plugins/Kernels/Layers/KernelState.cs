using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.Layers;

/// <summary>
/// What flows between kernel layers, as in neural-tangents' stax: the NNGP covariance Σ and the NTK Θ between the
/// inputs of two batches, and the variances that nonlinearities need. A state is either
/// <list type="bullet">
/// <item><b>flat</b>: Σ, Θ are [n1, n2]; the variances are [n1, 1] and [1, n2] (each broadcasts against Σ); or</item>
/// <item><b>spatial</b>: Σ, Θ are bands of pixel pairs [n1, n2, D_h, D_w, H, W] (see <see cref="PixelBand"/>: only the
/// pairs within the reach that the rest of the network needs); the variances are the per-pixel ones
/// [n1, 1, H, W] and [1, n2, H, W].</item>
/// </list>
/// A state of each image paired with itself (what <see cref="Serial"/> computes once per image to get the variances)
/// has lead dims [n, 1] and variances [n, 1, ...] on both sides. Tensors are on the inputs' device and dtype and
/// carry autograd history; <see cref="Serial"/> owns and disposes them.
/// </summary>
/// <param name="Nngp">Σ.</param>
/// <param name="Ntk">Θ, or null when Θ = 0 (the input layer): no layer then spends work on zeros.</param>
/// <param name="Variance1">The first input's variances, or null where no layer reads them: over pixel pairs
/// <see cref="Serial"/> supplies them to the layers that ask (<see cref="IKernelLayer.UsesVariances"/>).</param>
/// <param name="Variance2">The second input's variances, likewise.</param>
public sealed record KernelState(Tensor Nngp, Tensor? Ntk, Tensor? Variance1, Tensor? Variance2)
{
    /// <summary>True for a state over pixel pairs ([n1, n2, D_h, D_w, H, W]).</summary>
    public bool IsSpatial => Nngp.dim() == 6;

    /// <summary>Θ, with a zero tensor for the null (zero) Θ of the input layer.</summary>
    public Tensor NtkOrZeros() => Ntk ?? zeros_like(Nngp);

    /// <summary>
    /// The input layer over flattened features [n, ...]: Σ = x·x′ / d, Θ = 0, variances |x|² / d.
    /// </summary>
    public static KernelState FromInputs(Tensor x1, Tensor x2)
    {
        var flat1 = x1.flatten(1);
        var flat2 = x2.flatten(1);
        using var features = ((double)flat1.shape[1]).ToScalar(); // held for the native calls (see HeldScalars)
        return new KernelState(
            flat1.matmul(flat2.t()).div(features),
            null,
            flat1.mul(flat1).sum([1], keepdim: true).div(features),
            flat2.mul(flat2).sum([1], keepdim: true).div(features).t());
    }

    /// <summary>
    /// The input layer over pixel pairs for images [n1, C, H, W] and [n2, C, H, W]: Σ(p, p′) = x(p)·x′(p′) / C
    /// (neural-tangents' spatial covariance) on the band of the given reach, Θ = 0. With <paramref name="paired"/>
    /// (x1 and x2 the same images), each image with itself only: lead dims [n, 1].
    /// </summary>
    /// <exception cref="ArgumentException">The inputs are not images of the same channels and size.</exception>
    public static KernelState FromImages(Tensor x1, Tensor x2, PixelReach reach, bool paired = false)
    {
        if (x1.dim() != 4 || x2.dim() != 4 || !x1.shape.Skip(1).SequenceEqual(x2.shape.Skip(1)))
            throw new ArgumentException($"Pixel-pair kernels need images [n, C, H, W] of one size; got [{string.Join(", ", x1.shape)}] and [{string.Join(", ", x2.shape)}].");
        return new KernelState(PixelBand.Input(x1, x2, reach, paired), null, null, null);
    }

    /// <summary>
    /// Moves the tensors a layer created (those not shared with its <paramref name="input"/>, which already live in
    /// the outer scope) to the enclosing dispose scope. Lets <see cref="Serial"/> free each layer's temporaries.
    /// </summary>
    public KernelState MoveToOuterDisposeScope(KernelState input)
    {
        foreach (var tensor in Tensors.Except(input.Tensors, ReferenceEqualityComparer.Instance).Cast<Tensor>())
            tensor.MoveToOuterDisposeScope();
        return this;
    }

    /// <summary>
    /// Disposes this state's Σ and Θ except those <paramref name="successor"/> still uses (they dominate memory over
    /// pixel pairs; the small variances stay until the block's scope ends, since other states may share them).
    /// </summary>
    public void DisposeExcept(KernelState successor)
    {
        foreach (var tensor in Covariances.Except(successor.Tensors, ReferenceEqualityComparer.Instance).Cast<Tensor>())
            tensor.Dispose();
    }

    private IEnumerable<Tensor> Covariances => new[] { Nngp, Ntk }.OfType<Tensor>().Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>();

    private IEnumerable<Tensor> Tensors => new[] { Nngp, Ntk, Variance1, Variance2 }.OfType<Tensor>().Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>();
}

/// <summary>
/// One layer of an infinite-width network, as a map between kernel states (neural-tangents' stax kernel function).
/// Besides the map, a layer states what it needs of its input, so that <see cref="Serial"/> computes no more than
/// that: which representation (<see cref="InputNeed"/>: the flat covariance, or which band of pixel pairs) and whether
/// the variances (<see cref="UsesVariances"/>).
/// </summary>
public interface IKernelLayer
{
    /// <summary>The output state. Its input holds at least what <see cref="InputNeed"/> asked for.</summary>
    /// <exception cref="InvalidOperationException">The state is of the wrong kind (flat or spatial) for this layer.</exception>
    KernelState Apply(KernelState input);

    /// <summary>The output feature map's size for an input of size <paramref name="input"/>; null for a flat state.</summary>
    /// <exception cref="InvalidOperationException">The layer cannot take that input (a Dense on images, a pool larger than the map).</exception>
    Grid? OutputGrid(Grid? input);

    /// <summary>
    /// What this layer needs of its input (a map of size <paramref name="input"/>, null when flat) so that its output
    /// holds <paramref name="output"/>: the flat covariance, or the pixel pairs within some reach. Needs only grow
    /// walking backwards, so the need of the first layer is the cheapest representation of the network's input.
    /// </summary>
    /// <exception cref="InvalidOperationException">The layer cannot take such an input (a Conv on a flat state).</exception>
    KernelRepresentation InputNeed(KernelRepresentation output, Grid? input);

    /// <summary>Whether <see cref="Apply"/> reads the input's variances.</summary>
    bool UsesVariances { get; }
}

/// <summary>
/// What a kernel state holds, from cheapest to dearest: the flat covariance [n1, n2], or the pixel pairs within a reach
/// ([n1, n2, 2R+1, 2C+1, H, W], see <see cref="PixelBand"/>). Declared by each layer (<see cref="IKernelLayer.InputNeed"/>)
/// and derived by <see cref="Serial"/> for the network's input.
/// </summary>
public abstract record KernelRepresentation
{
    // Closed: the two representations below are all a state can be.
    private KernelRepresentation()
    {
    }

    /// <summary>The flat covariance (see <see cref="FlatCovariance"/>).</summary>
    public static KernelRepresentation Flat { get; } = new FlatCovariance();

    /// <summary>
    /// The covariance of the flattened features, [n1, n2]: of a flat state, Σ itself; of a map over pixels, the mean of its
    /// same-pixel covariances (what Flatten computes); of the network's input images, x·x′/d
    /// (<see cref="KernelState.FromInputs"/>), the cheapest there is — what a fully-connected network needs.
    /// </summary>
    public sealed record FlatCovariance : KernelRepresentation;

    /// <summary>
    /// The covariances of the pixel pairs within <paramref name="Reach"/> (<see cref="KernelState.FromImages"/> on the input):
    /// (0, 0) the same-pixel pairs only, (H − 1, W − 1) all of them.
    /// </summary>
    public sealed record PixelPairs(PixelReach Reach) : KernelRepresentation;

    /// <summary>The same-pixel pairs, (0, 0): what a spatial layer needs of its input for a flat (image-level) output.</summary>
    public static KernelRepresentation SamePixel { get; } = new PixelPairs(new PixelReach(0, 0));

    /// <summary>
    /// The reach of the pixel pairs a map over pixels must hold to provide this: the pairs' own reach, or (0, 0) for the
    /// flat covariance (the mean of the same-pixel pairs).
    /// </summary>
    public PixelReach ReachOnMap => this is PixelPairs pairs ? pairs.Reach : new PixelReach(0, 0);
}
