using Distillery.Abstractions.Data;
using Distillery.Abstractions.Manifests;
using Distillery.Abstractions.Plugins;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Runs;

/// <summary>
/// What every plugin call gets from the host: where tensors live, the seed, logging, progress,
/// cancellation and the run's checkpoint store.
/// </summary>
public class RunContext
{
    public required Device Device { get; init; }
    public required ScalarType DType { get; init; }
    public required long Seed { get; init; }
    public required ILogger Logger { get; init; }
    public IProgressReporter Progress { get; init; } = NullProgressReporter.Instance;
    public ICheckpointStore Checkpoints { get; init; } = NullCheckpointStore.Instance;
    public CancellationToken Cancellation { get; init; }

    /// <summary>
    /// The run's feature caches (see <see cref="Data.FeatureCaches"/>), owned and disposed by the host when the run ends;
    /// null when the caller keeps none (then plugins compute features where they need them).
    /// </summary>
    public FeatureCaches? FeatureCaches { get; init; }

    /// <summary>
    /// The manifest path of the section that configured the plugin receiving this context — <c>algorithm</c>,
    /// <c>kernel</c>, <c>dataset</c>, <c>preprocess[2]</c>, <c>evaluation[1]</c> — set by the host for each call; empty
    /// when the caller is not the host (a test, a benchmark). Plugins name their options in messages through
    /// <see cref="OptionPath"/>, never by a hard-coded path.
    /// </summary>
    public string ManifestSection { get; init; } = "";

    /// <summary>
    /// How a message names one of the called plugin's own options, for advice in errors that are not about the option's
    /// value (a <see cref="NumericalFailureException"/>: "lower algorithm.options.learningRate"):
    /// <c>&lt;ManifestSection&gt;.options.&lt;option&gt;</c> (see <see cref="ManifestPaths.Option"/>), or
    /// <c>options.&lt;option&gt;</c> without a section. An option whose value is simply unusable is an
    /// <see cref="OptionException"/> instead, which the host names the same way.
    /// </summary>
    /// <param name="option">The option's manifest name or property name (written in camelCase).</param>
    public string OptionPath(string option) =>
        ManifestSection.Length == 0 ? $"options.{ManifestPaths.OptionName(option)}" : ManifestPaths.Option(ManifestSection, option);

    /// <summary>
    /// A CPU generator seeded from the run seed, a purpose and an index: the same (seed, purpose, index) always
    /// gives the same stream, so a resumed run draws exactly what an uninterrupted one would.
    /// </summary>
    public Generator CreateGenerator(string purpose, long index = 0)
    {
        var generator = new Generator(0, torch.CPU);
        generator.manual_seed(DeriveSeed(Seed, purpose, index));
        return generator;
    }

    /// <summary>A 63-bit seed mixed (FNV-1a, then SplitMix64) from the run seed, a purpose and an index.</summary>
    public static long DeriveSeed(long seed, string purpose, long index)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var ch in purpose) { hash ^= ch; hash *= 1099511628211UL; }
        var z = hash ^ (ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)index * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (long)(z & 0x7FFFFFFFFFFFFFFFUL);
    }
}

/// <summary>The context of a distillation: the preprocessed training set, the run's kernel and evaluation.</summary>
public sealed class DistillationContext : RunContext
{
    public required ImageSet Train { get; init; }

    /// <summary>The manifest's kernel, or null when the manifest names none.</summary>
    public IKernelFunction? Kernel { get; init; }

    /// <summary>Runs the manifest's evaluators on a candidate support set (for periodic evaluation during training).</summary>
    public Func<SupportSet, IReadOnlyDictionary<string, double>> Evaluate { get; init; } = _ => new Dictionary<string, double>();

    /// <summary>The kernel, or a clear error naming the algorithm that needs one.</summary>
    public IKernelFunction RequireKernel(string algorithm) =>
        Kernel ?? throw new DistilleryException($"algorithm '{algorithm}' needs a kernel: add a \"kernel\" section to the manifest");
}

/// <summary>The context of an evaluation: the support set, the preprocessed test set and the run's kernel.</summary>
public sealed class EvaluationContext : RunContext
{
    public required SupportSet Support { get; init; }
    public required ImageSet Test { get; init; }
    public IKernelFunction? Kernel { get; init; }
}
