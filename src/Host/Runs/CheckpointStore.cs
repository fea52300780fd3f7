using Distillery.Abstractions.Runs;
using Distillery.Host.Outputs;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.Host.Runs;

/// <summary>
/// Checkpoints as safetensors files <c>step-00000100.safetensors</c>, written atomically with a checksum.
/// The newest few are kept; a torn or corrupt one is reported and the one before it is used.
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
                var contents = SafeTensorsFile.Read(path);
                return new Checkpoint(long.Parse(contents.Metadata[StepKey]), contents.Tensors);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or KeyNotFoundException or FormatException or System.Text.Json.JsonException)
            {
                logger.LogWarning("Checkpoint {Path} is damaged ({Reason}); trying the one before it", path, e.Message);
            }
        }
        return null;
    }

    /// <summary>Checkpoint files, newest first.</summary>
    private IEnumerable<string> Files() =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "step-*.safetensors").OrderByDescending(f => f, StringComparer.Ordinal)
            : [];
}
