using Distillery.Abstractions.Runs;
using Distillery.Engine.Outputs;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.Engine.Runs;

/// <summary>
/// Checkpoints as safetensors files <c>step-00000100.safetensors</c>, written atomically with a checksum.
/// The newest few are kept; a torn or corrupt one, or one without its checksum (which could not be verified), is
/// reported and the one before it is used; when none is intact the run starts from step 0, with a warning.
/// </summary>
public sealed class CheckpointStore(string folder, ILogger logger, int keep = 2) : ICheckpointStore
{
    private const string StepKey = "step";

    public void Save(long step, IReadOnlyDictionary<string, Tensor> tensors)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"step-{step:D8}.safetensors");
        SafeTensorsFile.Write(path, tensors, new Dictionary<string, string> { [StepKey] = step.ToString() });
        foreach (var old in Files().Skip(keep)) File.Delete(old);
        logger.LogDebug("Checkpoint written at step {Step}: {Path}", step, path);
    }

    public Checkpoint? LoadLatest()
    {
        foreach (var path in Files())
        {
            try
            {
                var contents = SafeTensorsFile.Read(path, requireChecksum: true);
                return new Checkpoint(long.Parse(contents.Metadata[StepKey]), contents.Tensors);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or KeyNotFoundException or FormatException or System.Text.Json.JsonException)
            {
                logger.LogWarning("Checkpoint {Path} is damaged ({Reason}); trying the one before it", path, e.Message);
            }
        }
        if (Any(folder)) logger.LogWarning("No intact checkpoint in {Folder}: starting from step 0", folder);
        return null;
    }

    /// <summary>True when <paramref name="checkpointFolder"/> holds at least one checkpoint file (intact or not).</summary>
    public static bool Any(string checkpointFolder) => Files(checkpointFolder).Any();

    /// <summary>Checkpoint files, newest first.</summary>
    private IEnumerable<string> Files() => Files(folder);

    private static IEnumerable<string> Files(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "step-*.safetensors").OrderByDescending(f => f, StringComparer.Ordinal)
            : [];
}
