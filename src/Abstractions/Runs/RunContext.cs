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
/// <remarks>
/// The host builds one for each call; plugins read it and never keep it beyond the call. Calls made before the run
/// folder is claimed (dataset, preprocessing, kernel) get inert <see cref="Progress"/> and <see cref="Checkpoints"/>
/// and no <see cref="FeatureCaches"/>.
/// </remarks>
public class RunContext
{
    /// <summary>
    /// The run's device, from the manifest's <c>device</c> (<c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>): the training and test
    /// images live there, and tensors a plugin returns must too (datasets excepted: they load on the CPU).
    /// </summary>
    public required Device Device { get; init; }

    /// <summary>The run's floating-point dtype, from the manifest's <c>dtype</c>: <c>Float32</c> or <c>Float64</c>. Images, kernel matrices and support sets are in it.</summary>
    public required ScalarType DType { get; init; }

    /// <summary>
    /// The manifest's <c>seed</c>. Do not seed anything with it directly: derive a stream per purpose with
    /// <see cref="CreateGenerator"/>, so that two plugins never share a stream and a resumed run draws what an
    /// uninterrupted one did.
    /// </summary>
    public required long Seed { get; init; }

    /// <summary>
    /// The run's logger: debug and above go to the run folder's <c>run.log</c>, information and above to the console too
    /// (debug with <c>--verbose</c>; while a progress bar owns the terminal, warnings and errors only). Use message templates
    /// (<c>Logger.LogInformation("KIP step {Step}: …", step)</c>), not interpolated strings.
    /// </summary>
    public required ILogger Logger { get; init; }

    /// <summary>
    /// Where long work reports its steps: the run's <c>progress.jsonl</c>, the progress bar or log lines, and TensorBoard.
    /// <see cref="NullProgressReporter"/> (reports are discarded) while the data and the kernel are prepared and during
    /// periodic evaluations.
    /// </summary>
    public IProgressReporter Progress { get; init; } = NullProgressReporter.Instance;

    /// <summary>
    /// The run folder's checkpoints, for the algorithm (<see cref="DistillationContext"/>); <see cref="NullCheckpointStore"/>
    /// (saves nothing, loads nothing) for every other plugin call. See <see cref="ICheckpointStore"/>.
    /// </summary>
    public ICheckpointStore Checkpoints { get; init; } = NullCheckpointStore.Instance;

    /// <summary>
    /// Fires when the user stops the run (Ctrl+C, SIGTERM). Check it between steps or blocks of work: an algorithm first
    /// saves a checkpoint, then throws <see cref="OperationCanceledException"/> (<c>Cancellation.ThrowIfCancellationRequested()</c>);
    /// any other plugin just throws. The host then exits with code 130, and the same command resumes from the checkpoint.
    /// See <see cref="IDistillationAlgorithm{TOptions}.Distill"/>.
    /// </summary>
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
    /// <remarks>
    /// The rule for every plugin: all randomness comes from generators made here, never from the global generator or a
    /// generator carried across steps. Use one purpose per kind of draw, prefixed with the plugin's manifest name, and the
    /// step (or seed number, or class) as index where each draws anew. The bundled plugins use: <c>kip.support-init</c>,
    /// <c>("kip.target-batch", step)</c>, <c>("kip.kernel", step)</c>; <c>label-solve.support</c>,
    /// <c>label-solve.targets</c>; <c>natural.support</c>; <c>("herding.select", class)</c> and
    /// <c>("herding.candidates", class)</c> (<c>kcenter.…</c> alike); <c>convnet-rf.init</c> (the kernel's initial draw);
    /// <c>("transfer", seed)</c>; the matching plugin's <c>dc.…</c>, <c>dsa.…</c> and <c>dm.…</c>; and the host <c>validation-split</c>. Because a stream depends only on (seed, purpose,
    /// index), nothing about generators needs checkpointing: a run resumed at step k makes the draws of step k again,
    /// bit for bit, and a periodic evaluation cannot shift the algorithm's draws.
    /// </remarks>
    /// <param name="purpose">What the stream is for, e.g. <c>kip.target-batch</c>; distinct purposes give independent streams.</param>
    /// <param name="index">The step, seed number or class the draw belongs to; 0 for a one-off draw.</param>
    /// <returns>A new CPU generator (draw on the CPU, then move the result to <see cref="Device"/>); the caller owns it and
    /// disposes it (<c>using var generator = run.CreateGenerator(…)</c>).</returns>
    public Generator CreateGenerator(string purpose, long index = 0)
    {
        var generator = new Generator(0, torch.CPU);
        generator.manual_seed(DeriveSeed(Seed, purpose, index));
        return generator;
    }

    /// <summary>A 63-bit seed mixed (FNV-1a, then SplitMix64) from the run seed, a purpose and an index.</summary>
    /// <param name="seed">The run seed.</param>
    /// <param name="purpose">The purpose string, hashed character by character.</param>
    /// <param name="index">The index within the purpose.</param>
    /// <returns>A non-negative seed; the same arguments always give the same value, on every platform.</returns>
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
    /// <summary>
    /// The preprocessed training set (without the validation split, when the manifest holds one out): images [N, C, H, W]
    /// in <see cref="RunContext.DType"/>, labels int64 [N], both on <see cref="RunContext.Device"/>. Owned by the host and
    /// shared with the evaluators' data: read it, never change it in place or dispose it.
    /// </summary>
    public required ImageSet Train { get; init; }

    /// <summary>
    /// The manifest's kernel, or null when the manifest names none (see <see cref="RequireKernel"/>). The same object the
    /// evaluators get: an <see cref="IRedrawableKernel"/> must be back on its initial draw (<c>Redraw(null)</c>) whenever
    /// the algorithm evaluates or returns.
    /// </summary>
    public IKernelFunction? Kernel { get; init; }

    /// <summary>
    /// Runs the manifest's evaluators on a candidate support set, for periodic evaluation during training: it checks the
    /// set is finite (else <see cref="NumericalFailureException"/>), writes the run's <c>preview.png</c>, evaluates under
    /// <c>no_grad</c> and returns the figures as <c>&lt;evaluator&gt;.&lt;figure&gt;</c> (<c>krr.testAccuracy</c>), to be
    /// reported in <see cref="ProgressUpdate.Metrics"/> at the step. The caller keeps the support set (pass a detached
    /// snapshot); it is not retained. Evaluators draw no randomness that the algorithm's streams depend on. When the run is
    /// stopped during the evaluation it throws <see cref="OperationCanceledException"/>: catch it, save a checkpoint of the
    /// finished steps that records the evaluation as owed (<see cref="Checkpoint.EvaluationPendingName"/>), and rethrow, as between steps; a run
    /// resumed from that checkpoint evaluates before its next step, or the step's figures are lost.
    /// </summary>
    public Func<SupportSet, IReadOnlyDictionary<string, double>> Evaluate { get; init; } = _ => new Dictionary<string, double>();

    /// <summary>The kernel, or a clear error naming the algorithm that needs one.</summary>
    /// <param name="algorithm">The algorithm's manifest name, for the message.</param>
    /// <returns><see cref="Kernel"/>, when the manifest names one.</returns>
    /// <exception cref="DistilleryException">The manifest has no <c>kernel</c> section (exit code 2).</exception>
    public IKernelFunction RequireKernel(string algorithm) =>
        Kernel ?? throw new DistilleryException($"algorithm '{algorithm}' needs a kernel: add a \"kernel\" section to the manifest");
}

/// <summary>The context of an evaluation: the support set, the preprocessed test set and the run's kernel.</summary>
public sealed class EvaluationContext : RunContext
{
    /// <summary>
    /// The support set to score, on <see cref="RunContext.Device"/> (see <see cref="SupportSet"/>). Owned by the host or by
    /// the algorithm that asked for the evaluation: read it, never change it in place or dispose it.
    /// </summary>
    public required SupportSet Support { get; init; }

    /// <summary>
    /// The set the figures are measured on: the preprocessed test set, or, when the manifest holds a validation split out,
    /// that split (the host then renames <c>test…</c> figures <c>validation…</c>). Images [N, C, H, W] in
    /// <see cref="RunContext.DType"/> and labels int64 [N] on <see cref="RunContext.Device"/>; owned by the host, read-only.
    /// </summary>
    public required ImageSet Test { get; init; }

    /// <summary>
    /// The run's kernel, with its initial draw, or null when the manifest names none: an evaluator that needs one throws
    /// <see cref="DistilleryException"/> saying to add a <c>kernel</c> section.
    /// </summary>
    public IKernelFunction? Kernel { get; init; }
}
