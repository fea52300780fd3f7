namespace Distillery.Abstractions.Architectures;

/// <summary>
/// One network description — a list of <see cref="Layer"/>s applied in order (neural-tangents' stax.serial) — from which
/// every use of the network is derived: the exact infinite-width kernel (the kernels plugin's <c>Serial</c>), its
/// random-feature estimate (random finite networks of these widths) and the finite torch network that is trained
/// (<see cref="FiniteNetwork"/>). One description, so the three cannot drift apart. Immutable; equal when the layers
/// are equal, in order.
/// </summary>
public sealed class Architecture : IEquatable<Architecture>
{
    /// <summary>The description <paramref name="layers"/>, applied in order.</summary>
    /// <exception cref="ArgumentException">No layers, or a null layer.</exception>
    public Architecture(IEnumerable<Layer> layers)
    {
        Layers = layers.ToArray();
        if (Layers.Count == 0) throw new ArgumentException("a network description needs at least one layer", nameof(layers));
        if (Layers.Any(layer => layer is null)) throw new ArgumentException("a network description cannot hold a null layer", nameof(layers));
    }

    /// <summary>The layers, applied in order.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>
    /// The ConvNet of the KIP / RFAD / DC papers: [Conv(width, filterSize², wStd, bStd) → (InstanceNorm) → Relu →
    /// (pooling)] × depth → readout → Dense(outputs, wStd, bStd).
    /// </summary>
    /// <param name="depth">Conv blocks, ≥ 0 (0: readout and Dense on the input itself).</param>
    /// <param name="width">Channels of every convolution, ≥ 1.</param>
    /// <param name="outputs">Units of the final Dense: classes for a trained network, 1 for a kernel (the covariance of
    /// any one output unit, which is every unit's).</param>
    /// <param name="weightStd">W_std of every Conv and of the Dense.</param>
    /// <param name="biasStd">b_std of every Conv and of the Dense.</param>
    /// <param name="pooling">The pool closing each block (the papers' <c>new Layer.AvgPool(2)</c>), or null for none.</param>
    /// <param name="readout"><see cref="Layer.Flatten"/> or <see cref="Layer.GlobalAvgPool"/>: how the last feature map
    /// reaches the Dense.</param>
    /// <param name="instanceNorm">Whether each convolution is followed by <see cref="Layer.InstanceNorm"/> (finite networks only).</param>
    /// <param name="filterSize">Side of every convolution's filter, odd (3 in the papers).</param>
    /// <exception cref="ArgumentException">A negative depth, or a readout that is neither Flatten nor GlobalAvgPool.</exception>
    public static Architecture ConvNet(int depth, int width, int outputs, double weightStd, double biasStd,
                                       Layer.AvgPool? pooling, Layer readout, bool instanceNorm = false, int filterSize = 3)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        if (readout is not (Layer.Flatten or Layer.GlobalAvgPool))
            throw new ArgumentException($"a ConvNet's readout is Flatten or GlobalAvgPool, not {readout}", nameof(readout));
        var layers = new List<Layer>();
        for (var block = 0; block < depth; block++)
        {
            layers.Add(new Layer.Conv(width, filterSize, weightStd, biasStd));
            if (instanceNorm) layers.Add(new Layer.InstanceNorm());
            layers.Add(new Layer.Relu());
            if (pooling is not null) layers.Add(pooling);
        }
        layers.Add(readout);
        layers.Add(new Layer.Dense(outputs, weightStd, biasStd));
        return new Architecture(layers);
    }

    /// <summary>
    /// The fully-connected ReLU network: Flatten → [Dense(width, wStd, bStd) → Relu] × depth → Dense(outputs, wStd, bStd).
    /// </summary>
    /// <param name="depth">Hidden layers, ≥ 0.</param>
    /// <param name="width">Units of every hidden layer, ≥ 1.</param>
    /// <param name="outputs">Units of the final Dense (classes for a trained network, 1 for a kernel).</param>
    /// <param name="weightStd">W_std of every Dense.</param>
    /// <param name="biasStd">b_std of every Dense.</param>
    /// <exception cref="ArgumentOutOfRangeException">A negative depth.</exception>
    public static Architecture FullyConnected(int depth, int width, int outputs, double weightStd, double biasStd)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        var layers = new List<Layer> { new Layer.Flatten() };
        for (var hidden = 0; hidden < depth; hidden++)
        {
            layers.Add(new Layer.Dense(width, weightStd, biasStd));
            layers.Add(new Layer.Relu());
        }
        layers.Add(new Layer.Dense(outputs, weightStd, biasStd));
        return new Architecture(layers);
    }

    /// <summary>The shapes between the layers for one input example of shape <paramref name="input"/>: the input's, then each layer's output.</summary>
    /// <exception cref="ArchitectureException">A layer cannot take its input; the message names the layer by position.</exception>
    public IReadOnlyList<FeatureShape> Shapes(FeatureShape input)
    {
        var shapes = new FeatureShape[Layers.Count + 1];
        shapes[0] = input;
        for (var i = 0; i < Layers.Count; i++)
        {
            try
            {
                shapes[i + 1] = Layers[i].OutputShape(shapes[i]);
            }
            catch (ArchitectureException problem)
            {
                throw new ArchitectureException($"layer {i + 1} of {this} on {input} inputs: {problem.Message}");
            }
        }
        return shapes;
    }

    /// <summary>
    /// Values in the largest tensor the network holds for one example of shape <paramref name="input"/>: the input or a
    /// layer's output (<see cref="Shapes"/>). Times the batch and the element size, it is what one activation of a batch
    /// takes, for sizing blocks (<see cref="Numerics.CpuBlocks"/>).
    /// </summary>
    /// <exception cref="ArchitectureException">A layer cannot take its input.</exception>
    public long LargestActivation(FeatureShape input) => Shapes(input).Max(shape => shape.Size);

    /// <inheritdoc/>
    public bool Equals(Architecture? other) => other is not null && Layers.SequenceEqual(other.Layers);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Architecture);

    /// <inheritdoc/>
    public override int GetHashCode() => Layers.Aggregate(Layers.Count, (hash, layer) => HashCode.Combine(hash, layer));

    /// <summary>The layers joined by arrows: "Conv(…) → Relu → … → Dense(…)".</summary>
    public override string ToString() => string.Join(" → ", Layers);
}
