using static TorchSharp.torch;

namespace Distillery.Abstractions.Runs;

/// <summary>A saved state: the number of finished steps and named tensors (loaded on the CPU).</summary>
public sealed record Checkpoint(long Step, IReadOnlyDictionary<string, Tensor> Tensors);

/// <summary>
/// Where an algorithm saves its state so that a killed run resumes. The host writes atomically and keeps the
/// previous checkpoint; a resumed run must end with the same numbers as an uninterrupted one, so save
/// everything that the remaining steps depend on (optimiser moments included).
/// </summary>
public interface ICheckpointStore
{
    void Save(long step, IReadOnlyDictionary<string, Tensor> tensors);

    /// <summary>The latest intact checkpoint, or null when the run starts fresh.</summary>
    Checkpoint? LoadLatest();
}

public sealed class NullCheckpointStore : ICheckpointStore
{
    public static NullCheckpointStore Instance { get; } = new();
    public void Save(long step, IReadOnlyDictionary<string, Tensor> tensors) { }
    public Checkpoint? LoadLatest() => null;
}
