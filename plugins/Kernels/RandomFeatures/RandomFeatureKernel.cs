using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Plugins;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.RandomFeatures;

/// <summary>
/// K(x, x′) = Φ(x)·Φ(x′) + b_std², Φ the features of an ensemble of random finite networks of one description (see
/// <see cref="RandomConvNetEnsemble"/>, <see cref="RandomFeatureNetwork"/>): the random-feature estimate of that
/// description's NNGP.
/// A draw is identified by a seed taken from the caller's generator; the networks themselves are drawn lazily at
/// the next <see cref="Compute"/>, because only then is the images' channel count known. Autograd flows through
/// the (untrained, constant) networks to the images. The initial draw (what evaluation uses) may hold more networks
/// than a training draw (<see cref="RandomFeatureSampling.EvaluationModels"/>); its first
/// <see cref="RandomFeatureSampling.Models"/> networks are the fixed-mode training draw.
/// Its feature map is explicit (<see cref="IFeatureMapKernel"/>): with a fixed draw, algorithms cache the training and
/// test sets' features once and push only the support images through the networks at each step.
/// </summary>
public sealed class RandomFeatureKernel : IRedrawableKernel, IFeatureMapKernel, IDisposable
{
    private readonly RandomFeatureSampling options;
    private readonly ScalarType drawDType;
    private readonly long initialSeed;
    private long seed;
    private int models;
    private RandomConvNetEnsemble? ensemble;

    /// <summary>The <c>convnet-rf</c> kernel of <paramref name="options"/>: its description and its sampling.</summary>
    /// <param name="options">The manifest's options (<see cref="ConvNetRandomFeaturesOptions.Describe"/>, <see cref="ConvNetRandomFeaturesOptions.Sampling"/>).</param>
    /// <param name="initialDraw">Generator of the initial draw, which <c>Redraw(null)</c> restores.</param>
    /// <param name="device">Where the networks live (normally the run's device).</param>
    /// <param name="dtype">The dtype weights are drawn in, so a seed gives the same networks on every device.</param>
    public RandomFeatureKernel(ConvNetRandomFeaturesOptions options, Generator initialDraw, Device device, ScalarType dtype)
        : this(options.Describe(), options.Sampling(), initialDraw, device, dtype)
    {
    }

    /// <summary>The random-feature estimate of the NNGP of <paramref name="architecture"/>.</summary>
    /// <param name="architecture">The networks drawn: [Conv → Relu → (AvgPool)] blocks → Flatten | GlobalAvgPool → Dense (<see cref="RandomFeatureNetwork.From"/>).</param>
    /// <param name="sampling">How many networks, when redrawn, how features are cached, images per forward batch.</param>
    /// <param name="initialDraw">Generator of the initial draw, which <c>Redraw(null)</c> restores.</param>
    /// <param name="device">Where the networks live (normally the run's device).</param>
    /// <param name="dtype">The dtype weights are drawn in, so a seed gives the same networks on every device.</param>
    /// <exception cref="Abstractions.Architectures.ArchitectureException">The description is not of the form the ensemble runs.</exception>
    public RandomFeatureKernel(Architecture architecture, RandomFeatureSampling sampling, Generator initialDraw, Device device, ScalarType dtype)
    {
        Architecture = architecture;
        Network = RandomFeatureNetwork.From(architecture);
        options = sampling;
        Device = device;
        drawDType = dtype;
        initialSeed = DrawSeed(initialDraw);
        UseInitialDraw();
    }

    /// <summary>Where the networks live.</summary>
    public Device Device { get; }

    /// <summary>The description whose NNGP this estimates.</summary>
    public Architecture Architecture { get; }

    /// <summary>The description in the form the ensemble runs (what every draw's networks are).</summary>
    public RandomFeatureNetwork Network { get; }

    /// <inheritdoc/>

    /// <inheritdoc/>
    public void Redraw(Generator? generator)
    {
        if (generator is null)
        {
            UseInitialDraw();
            return;
        }
        models = options.Models;
        seed = options.Redraw == RedrawMode.PerStep ? DrawSeed(generator) : initialSeed;
    }

    private void UseInitialDraw() => (seed, models) = (initialSeed, options.EvaluationModels);

    /// <summary>The draw's seed and size: the networks follow from them (<see cref="RandomConvNetEnsemble"/>).</summary>
    public string FeatureMapId => $"convnet-rf seed {seed}, {models} networks";

    /// <inheritdoc/>
    public bool FixedAcrossSteps => options.Redraw == RedrawMode.Fixed;

    /// <inheritdoc/>
    public ScalarType? FeatureStorageType => options.FeatureCache switch
    {
        FeatureCacheStorage.Float16 => ScalarType.Float16,
        FeatureCacheStorage.Bfloat16 => ScalarType.BFloat16,
        _ => null,
    };

    /// <summary>Φ(images) [n, M·F] of the current draw (see <see cref="RandomConvNetEnsemble"/>), differentiable in the images.</summary>
    /// <exception cref="ArgumentException">The images' dtype or device is not the kernel's.</exception>
    public Tensor Features(Tensor images) => Networks(images).Features(images);

    /// <summary>Φ₁·Φ₂ᵀ + b_std²: the readout Dense layer's covariance.</summary>
    public Tensor FromFeatures(Tensor features1, Tensor features2)
    {
        using var bias = (Network.Readout.BiasStd * Network.Readout.BiasStd).ToScalar(); // held for the native call (see HeldScalars)
        return features1.matmul(features2.t()).add_(bias, HeldScalars.One);
    }

    /// <inheritdoc/>
    public Tensor Compute(Tensor x1, Tensor x2)
    {
        // Only the smaller side's features are held whole; the other is streamed block by block against them.
        if (x1.shape[0] < x2.shape[0]) return Compute(x2, x1).t();

        using var scope = NewDisposeScope();
        var networks = Networks(x1);
        var features2 = networks.Features(x2);
        using var bias = (Network.Readout.BiasStd * Network.Readout.BiasStd).ToScalar(); // held for the native calls (see HeldScalars)
        if (ReferenceEquals(x1, x2)) return features2.matmul(features2.t()).add(bias, HeldScalars.One).MoveToOuterDisposeScope();

        var rows = new List<Tensor>();
        for (long start = 0; start < x1.shape[0]; start += options.BlockSize)
        {
            var block = x1.narrow(0, start, Math.Min(options.BlockSize, x1.shape[0] - start));
            rows.Add(networks.Features(block).matmul(features2.t()));
        }
        return (rows.Count == 1 ? rows[0] : cat(rows, 0)).add(bias, HeldScalars.One).MoveToOuterDisposeScope();
    }

    /// <summary>The current draw's networks for these images' channels, dtype and device (drawn on first use).</summary>
    private RandomConvNetEnsemble Networks(Tensor images)
    {
        if (ensemble is not null && ensemble.Matches(seed, models, images)) return ensemble;
        ensemble?.Dispose();
        ensemble = null;
        if (!RandomConvNetEnsemble.SameDevice(Device, images) || images.dtype != drawDType)
            throw new ArgumentException(
                $"convnet-rf: the kernel was created for {drawDType} tensors on {Device}, but got {images.dtype} images on {images.device}");
        ensemble = new RandomConvNetEnsemble(Architecture, Network, options.BlockSize, models, seed, images.shape[1], drawDType, Device);
        return ensemble;
    }

    /// <summary>A draw is one 63-bit seed from the caller's generator: the networks follow from it deterministically.</summary>
    private static long DrawSeed(Generator generator)
    {
        using var drawn = randint(long.MaxValue, new long[] { 1 }, dtype: int64, generator: generator);
        return drawn.item<long>();
    }

    /// <summary>Frees the current draw's networks.</summary>
    public void Dispose()
    {
        ensemble?.Dispose();
        ensemble = null;
    }
}
