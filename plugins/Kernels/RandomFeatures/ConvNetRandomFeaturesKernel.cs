using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using static TorchSharp.torch;

namespace Distillery.Kernels.RandomFeatures;

/// <summary>
/// The NNGP of the infinite ConvNet [Conv3×3 → ReLU → AvgPool2×2] × depth → Flatten → Dense, approximated by
/// random features as in RFAD (Loo et al. 2022): the last-hidden-layer outputs of an ensemble of randomly
/// initialised, untrained finite ConvNets of the options' description (<see cref="ConvNetRandomFeaturesOptions.Describe"/>),
/// the same one the exact <c>convnet</c> kernel and the transfer network are derived from. Cost is linear in the pixel
/// count, unlike the exact kernel's square.
/// </summary>
[ExportKernel("convnet-rf", Description = "ConvNet NNGP approximated by random features of an ensemble of random finite ConvNets (RFAD).")]
public sealed class ConvNetRandomFeaturesKernel : IKernelProvider<ConvNetRandomFeaturesOptions>
{
    /// <summary>The generator purpose of the initial draw (the one <c>Redraw(null)</c> restores and evaluation uses).</summary>
    public const string InitialDrawPurpose = "convnet-rf.init";

    /// <inheritdoc/>
    public IKernelFunction Create(RunContext run, ConvNetRandomFeaturesOptions options)
    {
        using var generator = run.CreateGenerator(InitialDrawPurpose);
        return new RandomFeatureKernel(options, generator, run.Device, run.DType);
    }
}

/// <summary>Whether <see cref="IRedrawableKernel.Redraw"/> replaces the networks.</summary>
public enum RedrawMode
{
    /// <summary>Fresh networks every optimisation step, as RFAD does: the support cannot overfit one draw.</summary>
    PerStep,
    /// <summary>Keep the initial draw throughout (a fixed, deterministic kernel).</summary>
    Fixed,
}

/// <summary>How caches store the features of a fixed image set (<see cref="RandomFeatureKernel.FeatureStorageType"/>).</summary>
public enum FeatureCacheStorage
{
    /// <summary>In the run's dtype: exact.</summary>
    Full,
    /// <summary>IEEE half precision (11-bit significand): half the memory; rows are upcast when read.</summary>
    Float16,
    /// <summary>bfloat16 (8-bit significand, float32's range): half the memory, coarser than float16.</summary>
    Bfloat16,
}

/// <summary>
/// How the random networks of a random-feature kernel are sampled and used (the description says what they are).
/// </summary>
/// <param name="Models">Networks in a training draw (M), ≥ 1.</param>
/// <param name="EvaluationModels">Networks in the initial draw (evaluation, Label Solve, every use outside a KIP step); its first <paramref name="Models"/> are the fixed training draw.</param>
/// <param name="Redraw">Whether a KIP step draws fresh networks.</param>
/// <param name="FeatureCache">How cached features of a fixed image set are stored.</param>
/// <param name="BlockSize">Images per forward batch through the networks, at most (bounds memory; on the CPU fewer, see <see cref="Abstractions.Numerics.CpuBlocks"/>).</param>
public sealed record RandomFeatureSampling(int Models, int EvaluationModels, RedrawMode Redraw, FeatureCacheStorage FeatureCache, int BlockSize);

/// <summary>Options of the <c>convnet-rf</c> kernel (the manifest's <c>kernel.options</c>).</summary>
public sealed class ConvNetRandomFeaturesOptions
{
    /// <summary>Networks in a training draw (M).</summary>
    [Range(1, 1024), Description("Number of random networks in the ensemble (M); the estimate's variance falls as 1/(M·width).")]
    public int Models { get; set; } = 8;

    /// <summary>Networks in the initial draw; null: <see cref="Models"/>.</summary>
    [Range(1, 1024), Description("Networks in the initial draw, which evaluation, Label Solve and every use outside a KIP step see; " +
                                 "null: models. A larger fixed ensemble is a closer estimate of the NNGP at a one-off cost.")]
    public int? EvaluationModels { get; set; }

    /// <summary>Channels of every conv layer.</summary>
    [Range(1, 4096), Description("Channels of every conv layer of each random network.")]
    public int Width { get; set; } = 128;

    /// <summary>Conv blocks.</summary>
    [Range(0, 16), Description("Conv blocks (Conv3×3 SAME → ReLU → AvgPool2×2) before Flatten → Dense.")]
    public int Depth { get; set; } = 3;

    /// <summary>W_std of every conv and of the readout.</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Weight standard deviation: weights ~ N(0, wStd²/fan_in).")]
    public double WStd { get; set; } = Math.Sqrt(2);

    /// <summary>b_std of every conv and of the readout.</summary>
    [Range(0.0, double.MaxValue), Description("Bias standard deviation: biases ~ N(0, bStd²).")]
    public double BStd { get; set; } = 0.1;

    /// <summary>Whether a KIP step draws fresh networks.</summary>
    [Description("perStep: fresh networks at every KIP step (RFAD); fixed: keep the initial draw.")]
    public RedrawMode Redraw { get; set; } = RedrawMode.PerStep;

    /// <summary>How cached features are stored.</summary>
    [Description("How the features of a fixed image set are stored when cached (the training set during KIP with a fixed draw, " +
                 "the test set across evaluations): full (the run's dtype), float16 or bfloat16 (half the memory, rows upcast when read). " +
                 "8 networks of width 128 at depth 3 on 60,000 28×28 images: 2.2 GB in float32.")]
    public FeatureCacheStorage FeatureCache { get; set; } = FeatureCacheStorage.Full;

    /// <summary>Images per forward batch.</summary>
    [Range(1, int.MaxValue), Description("Images per forward batch through the networks (bounds memory); on the CPU fewer when " +
                                         "a batch's largest activation would exceed 32 MiB, which glibc would map afresh at every step.")]
    public int BlockSize { get; set; } = 500;

    /// <summary><see cref="EvaluationModels"/>, or <see cref="Models"/> when null.</summary>
    // A method, not a property: the host serialises public properties into the resolved manifest.
    public int ResolvedEvaluationModels() => EvaluationModels ?? Models;

    /// <summary>The networks these options draw: [Conv3×3(width, wStd, bStd) → Relu → AvgPool 2×2] × depth → Flatten → Dense(wStd, bStd).</summary>
    public Architecture Describe() => Architecture.ConvNet(Depth, Width, outputs: 1, WStd, BStd, pooling: new Layer.AvgPool(2), readout: new Layer.Flatten());

    /// <summary>How these options sample and use the networks.</summary>
    public RandomFeatureSampling Sampling() => new(Models, ResolvedEvaluationModels(), Redraw, FeatureCache, BlockSize);
}
