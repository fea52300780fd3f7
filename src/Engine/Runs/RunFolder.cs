namespace Distillery.Engine.Runs;

/// <summary>The files of one run, all in one folder.</summary>
public sealed class RunFolder(string path)
{
    public string Path { get; } = System.IO.Path.GetFullPath(path);
    public string ResolvedManifest => Combine("manifest.resolved.json");
    public string Metrics => Combine("metrics.json");
    /// <summary>The figures of an earlier evaluation of this distillation, kept when the manifest's evaluation changes.</summary>
    public string PreviousMetrics => Combine("metrics.previous.json");
    public string ProgressLog => Combine("progress.jsonl");
    /// <summary>The loss and every figure over the steps, drawn from the progress log at the end of the run.</summary>
    public string ProgressPlot => Combine("progress.png");
    public string Log => Combine("run.log");
    public string DistilledSet => Combine("distilled.safetensors");
    public string ImageGrid => Combine("distilled.png");
    /// <summary>The support set's image grid at the latest periodic evaluation, while the run goes on.</summary>
    public string Preview => Combine("preview.png");
    /// <summary>Held open exclusively while a process runs in this folder, so two never run in it at once.</summary>
    public string Lock => Combine(".lock");
    public string Preprocessing => Combine("preprocessing.safetensors");
    public string Checkpoints => Combine("checkpoints");

    public void Create()
    {
        Directory.CreateDirectory(Path);
        Directory.CreateDirectory(Checkpoints);
    }

    /// <summary>True when a checkpoint has been written here (intact or not): work that a resumed run would build on.</summary>
    public bool HasCheckpoints => CheckpointStore.Any(Checkpoints);

    /// <summary>
    /// Undoes a claim that did no work: removes the resolved manifest, fitted preprocessing, progress log, preview and
    /// the TensorBoard event files and the empty checkpoint folder, so the folder no longer holds an experiment. run.log
    /// stays (it says what happened).
    /// </summary>
    public void Release()
    {
        foreach (var file in new[] { ResolvedManifest, Preprocessing, ProgressLog, Preview }) File.Delete(file);
        // TensorBoard's event file of this attempt holds only the refused options: the corrected run logs its own.
        foreach (var events in Directory.EnumerateFiles(Path, Outputs.TensorBoardLog.EventFilePrefix + "*")) File.Delete(events);
        if (Directory.Exists(Checkpoints) && !Directory.EnumerateFileSystemEntries(Checkpoints).Any()) Directory.Delete(Checkpoints);
    }

    private string Combine(string name) => System.IO.Path.Combine(Path, name);
}
