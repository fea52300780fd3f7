namespace Distillery.Abstractions.Architectures;

/// <summary>
/// One layer of a network description (<see cref="Architecture"/>), in the spirit of neural-tangents' stax: the same
/// layer list yields the exact infinite-width kernel (NNGP / NTK), its random-feature estimate and the finite torch
/// network (<see cref="FiniteNetwork"/>). A layer holds no tensors: it is an immutable value (records compare by value),
/// so two descriptions are equal when their layers are. The hierarchy is closed — these seven layers are what every
/// derivation understands — and a derivation that cannot express one (the kernel and instance norm) refuses it with an
/// <see cref="ArchitectureException"/>.
/// <para>Parameterisation: <c>WeightStd</c> (W_std) and <c>BiasStd</c> (b_std) are neural-tangents' NTK
/// parameterisation — an affine layer computes (W_std/√fan_in)·ω ⋆ x + b_std·β with ω, β ~ N(0, 1), so that at
/// initialisation its outputs have covariance W_std²·(mean over the fan-in of input products) + b_std². The kernels and
/// the random features always use them; a finite network in the standard parameterisation ignores them (PyTorch's
/// layers and initialisation, <see cref="Parameterization.Standard"/>).</para>
/// </summary>
public abstract record Layer
{
    // Closed: only the nested layers below derive (they reach this private constructor; no other type can).
    private Layer()
    {
    }

    /// <summary>The shape of this layer's output for an input of shape <paramref name="input"/>.</summary>
    /// <exception cref="ArchitectureException">The layer cannot take that input (a convolution on a flat vector, a pool
    /// larger than the feature map, a dense layer on images); the message says what to change.</exception>
    public abstract FeatureShape OutputShape(FeatureShape input);

    /// <summary>
    /// A FilterSize × FilterSize convolution, stride 1, SAME zero padding, to <paramref name="Channels"/> output channels
    /// (fan_in = input channels · FilterSize²): stax.Conv. Images [n, C, H, W] → [n, Channels, H, W].
    /// </summary>
    /// <param name="Channels">Output channels (the width; the infinite-width kernel does not depend on it), ≥ 1.</param>
    /// <param name="FilterSize">Filter side, odd (SAME padding is then symmetric: FilterSize / 2 on each side), ≥ 1.</param>
    /// <param name="WeightStd">W_std &gt; 0 (NTK parameterisation).</param>
    /// <param name="BiasStd">b_std ≥ 0 (NTK parameterisation).</param>
    public sealed record Conv(int Channels, int FilterSize, double WeightStd, double BiasStd) : Layer
    {
        /// <summary>Output channels, ≥ 1.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
        public int Channels { get; init; } = Channels >= 1 ? Channels : throw new ArgumentOutOfRangeException(nameof(Channels), Channels, "a convolution needs at least one output channel");

        /// <summary>Filter side, odd and ≥ 1.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Even or below 1.</exception>
        public int FilterSize { get; init; } = FilterSize >= 1 && FilterSize % 2 == 1 ? FilterSize
            : throw new ArgumentOutOfRangeException(nameof(FilterSize), FilterSize, "the filter side must be odd (SAME padding of an even filter is lopsided)");

        /// <summary>W_std, &gt; 0.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Not positive and finite.</exception>
        public double WeightStd { get; init; } = Positive(WeightStd, nameof(WeightStd));

        /// <summary>b_std, ≥ 0.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Negative or not finite.</exception>
        public double BiasStd { get; init; } = NonNegative(BiasStd, nameof(BiasStd));

        /// <inheritdoc/>
        public override FeatureShape OutputShape(FeatureShape input) =>
            input.IsFlat ? throw new ArchitectureException($"{this} needs images [n, C, H, W], not a flat vector") : input with { Channels = Channels };

        /// <inheritdoc/>
        public override string ToString() => $"Conv({Channels}, {FilterSize}×{FilterSize}, wStd {WeightStd:G6}, bStd {BiasStd:G6})";
    }

    /// <summary>ReLU, elementwise (stax.Relu): any shape to the same shape.</summary>
    public sealed record Relu : Layer
    {
        /// <inheritdoc/>
        public override FeatureShape OutputShape(FeatureShape input) => input;

        /// <inheritdoc/>
        public override string ToString() => "Relu";
    }

    /// <summary>
    /// Average pooling over Window × Window patches with the given stride, no padding (stax.AvgPool, VALID; an odd
    /// remainder is dropped, 7 → 3 for a 2×2 pool): [n, C, H, W] → [n, C, (H − Window)/Stride + 1, …].
    /// </summary>
    /// <param name="Window">Patch side, ≥ 1.</param>
    /// <param name="Stride">Step between patches, ≥ 1.</param>
    public sealed record AvgPool(int Window, int Stride) : Layer
    {
        /// <summary>A Window × Window pool with stride Window (non-overlapping patches, as AvgPool2×2 in the ConvNets).</summary>
        public AvgPool(int window) : this(window, window)
        {
        }

        /// <summary>Patch side, ≥ 1.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
        public int Window { get; init; } = Window >= 1 ? Window : throw new ArgumentOutOfRangeException(nameof(Window), Window, "a pooling window needs at least one pixel");

        /// <summary>Step between patches, ≥ 1.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
        public int Stride { get; init; } = Stride >= 1 ? Stride : throw new ArgumentOutOfRangeException(nameof(Stride), Stride, "a pooling stride must be at least 1");

        /// <inheritdoc/>
        public override FeatureShape OutputShape(FeatureShape input)
        {
            if (input.IsFlat) throw new ArchitectureException($"{this} needs images [n, C, H, W], not a flat vector");
            if (input.Height < Window || input.Width < Window)
                throw new ArchitectureException($"{this} does not fit a {input.Height}×{input.Width} feature map; use fewer pooling layers or larger images");
            return input with { Height = (input.Height - Window) / Stride + 1, Width = (input.Width - Window) / Stride + 1 };
        }

        /// <inheritdoc/>
        public override string ToString() => $"AvgPool({Window}×{Window}, stride {Stride})";
    }

    /// <summary>
    /// Instance normalisation with a learned scale and shift per channel (torch's InstanceNorm2d(C, affine: true),
    /// ε = 1e-5; the DC/DSA ConvNet's GroupNorm(C, C)): each image's channels normalised by their own mean and variance
    /// over the pixels. Finite networks only: it has no infinite-width kernel here, so the kernel and random-feature
    /// derivations refuse it.
    /// </summary>
    public sealed record InstanceNorm : Layer
    {
        /// <inheritdoc/>
        public override FeatureShape OutputShape(FeatureShape input) =>
            input.IsFlat ? throw new ArchitectureException("InstanceNorm needs images [n, C, H, W], not a flat vector") : input;

        /// <inheritdoc/>
        public override string ToString() => "InstanceNorm";
    }

    /// <summary>
    /// Flattens images [n, C, H, W] to vectors [n, C·H·W] (stax.Flatten; a flat input passes unchanged). In the kernel,
    /// the mean of the same-pixel covariances; on the network's input, simply x·x′/d.
    /// </summary>
    public sealed record Flatten : Layer
    {
        /// <inheritdoc/>
        public override FeatureShape OutputShape(FeatureShape input) => FeatureShape.Vector(input.Size);

        /// <inheritdoc/>
        public override string ToString() => "Flatten";
    }

    /// <summary>Global average pooling (stax.GlobalAvgPool): images [n, C, H, W] → [n, C], each channel's mean over the pixels.</summary>
    public sealed record GlobalAvgPool : Layer
    {
        /// <inheritdoc/>
        public override FeatureShape OutputShape(FeatureShape input) =>
            input.IsFlat ? throw new ArchitectureException("GlobalAvgPool needs images [n, C, H, W], not a flat vector") : FeatureShape.Vector(input.Channels);

        /// <inheritdoc/>
        public override string ToString() => "GlobalAvgPool";
    }

    /// <summary>
    /// A fully-connected layer (stax.Dense): vectors [n, in] → [n, <paramref name="Outputs"/>], fan_in = in. Images must
    /// go through <see cref="Flatten"/> or <see cref="GlobalAvgPool"/> first. The last Dense of a description is its
    /// readout: one output per class for a finite network; the kernels are the covariance of any one output unit.
    /// </summary>
    /// <param name="Outputs">Output units (the width), ≥ 1.</param>
    /// <param name="WeightStd">W_std &gt; 0 (NTK parameterisation).</param>
    /// <param name="BiasStd">b_std ≥ 0 (NTK parameterisation).</param>
    public sealed record Dense(int Outputs, double WeightStd, double BiasStd) : Layer
    {
        /// <summary>Output units, ≥ 1.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Below 1.</exception>
        public int Outputs { get; init; } = Outputs >= 1 ? Outputs : throw new ArgumentOutOfRangeException(nameof(Outputs), Outputs, "a dense layer needs at least one output");

        /// <summary>W_std, &gt; 0.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Not positive and finite.</exception>
        public double WeightStd { get; init; } = Positive(WeightStd, nameof(WeightStd));

        /// <summary>b_std, ≥ 0.</summary>
        /// <exception cref="ArgumentOutOfRangeException">Negative or not finite.</exception>
        public double BiasStd { get; init; } = NonNegative(BiasStd, nameof(BiasStd));

        /// <inheritdoc/>
        public override FeatureShape OutputShape(FeatureShape input) => input.IsFlat
            ? FeatureShape.Vector(Outputs)
            : throw new ArchitectureException($"{this} needs a flat vector, not images; add Flatten or GlobalAvgPool before it");

        /// <inheritdoc/>
        public override string ToString() => $"Dense({Outputs}, wStd {WeightStd:G6}, bStd {BiasStd:G6})";
    }

    private static double Positive(double value, string name) => value > 0 && double.IsFinite(value)
        ? value : throw new ArgumentOutOfRangeException(name, value, "a weight standard deviation must be positive and finite");

    private static double NonNegative(double value, string name) => value >= 0 && double.IsFinite(value)
        ? value : throw new ArgumentOutOfRangeException(name, value, "a bias standard deviation must be ≥ 0 and finite");
}
