using static TorchSharp.torch;

namespace Distillery.Abstractions.Runs;

/// <summary>A saved state: the number of finished steps and named tensors (loaded on the CPU).</summary>
/// <param name="Step">The number of steps finished when it was saved: the step to continue from.</param>
/// <param name="Tensors">The tensors saved under their names, on the CPU in their saved dtype; the caller owns them
/// (copy them into its own state, e.g. <c>images.copy_(tensors["images"])</c>, which also moves them to the device).</param>
public sealed record Checkpoint(long Step, IReadOnlyDictionary<string, Tensor> Tensors)
{
    /// <summary>
    /// The tensor saved under <paramref name="name"/> (on the CPU, owned by the caller, as every tensor of <see cref="Tensors"/>).
    /// Every algorithm that restores a state needs the same refusal when one is missing, so it is said once, here.
    /// </summary>
    /// <param name="name">The name the tensor was saved under.</param>
    /// <exception cref="DistilleryException">The checkpoint has no such tensor: a different experiment (or an older
    /// version of the algorithm) wrote it. The message names the step and the tensor.</exception>
    public Tensor Require(string name) => Tensors.TryGetValue(name, out var tensor)
        ? tensor
        : throw new DistilleryException($"the checkpoint at step {Step} has no '{name}' tensor; it was written by a different experiment");

    /// <summary>
    /// The name under which an algorithm saves a 0-d bool tensor, true when a stop interrupted the periodic evaluation at
    /// <see cref="Step"/> (see <see cref="DistillationContext.Evaluate"/>): the run resumed from it owes that evaluation.
    /// </summary>
    public const string EvaluationPendingName = "evaluation.pending";

    /// <summary>
    /// True when the checkpoint marks the evaluation at <see cref="Step"/> as owed (<see cref="EvaluationPendingName"/>);
    /// false when it holds no such tensor (it was saved between steps, or before the mark existed).
    /// </summary>
    public bool EvaluationPending => Tensors.TryGetValue(EvaluationPendingName, out var pending) && pending.item<bool>();
}

/// <summary>
/// Where an algorithm saves its state so that a killed run resumes. The host writes atomically and keeps the
/// previous checkpoint; a resumed run must end with the same numbers as an uninterrupted one, so save
/// everything that the remaining steps depend on (optimiser moments included).
/// </summary>
/// <remarks>
/// Generators need no saving when every draw comes from <see cref="RunContext.CreateGenerator"/> with the step as index.
/// Save every so many steps (KIP: <c>checkpointInterval</c>), after the last step (a later run that only changes the
/// evaluation resumes from it), and when <see cref="RunContext.Cancellation"/> fires, before throwing
/// <see cref="OperationCanceledException"/>.
/// </remarks>
public interface ICheckpointStore
{
    /// <summary>
    /// Saves the state after <paramref name="step"/> finished steps, atomically and with a checksum, as
    /// <c>checkpoints/step-&lt;step&gt;.safetensors</c> in the run folder; older checkpoints beyond the latest two are deleted.
    /// </summary>
    /// <param name="step">Finished steps (0 before the first).</param>
    /// <param name="tensors">The state, under names of your choice; any device and dtype (written from a CPU copy). Read
    /// before the call returns and not kept: the caller keeps ownership.</param>
    /// <exception cref="IOException">The run folder cannot be written (the run then fails).</exception>
    void Save(long step, IReadOnlyDictionary<string, Tensor> tensors);

    /// <summary>
    /// The latest intact checkpoint, or null when the run starts fresh. A torn or corrupt file is skipped with a warning in
    /// the log and the one before it is used; with none intact the run starts from step 0. A checkpoint lacking a tensor
    /// the algorithm expects was written by another experiment: throw <see cref="DistilleryException"/> naming it.
    /// </summary>
    /// <returns>The checkpoint, whose tensors the caller owns; null when there is none.</returns>
    Checkpoint? LoadLatest();
}

/// <summary>The checkpoint store of a call that keeps no state (every plugin call but the algorithm's, and tests): saves nothing, loads nothing.</summary>
public sealed class NullCheckpointStore : ICheckpointStore
{
    /// <summary>The one instance (it has no state).</summary>
    public static NullCheckpointStore Instance { get; } = new();

    /// <summary>Does nothing.</summary>
    /// <param name="step">Ignored.</param>
    /// <param name="tensors">Ignored; not read.</param>
    public void Save(long step, IReadOnlyDictionary<string, Tensor> tensors) { }

    /// <summary>Always null: every run starts fresh.</summary>
    /// <returns>null.</returns>
    public Checkpoint? LoadLatest() => null;
}
