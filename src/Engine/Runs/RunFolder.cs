namespace Distillery.Engine.Runs;

/// <summary>
/// The layout of one run folder: the name of every file a run writes there, in one place. Everything that reads or
/// writes a run folder — the runner, <c>collect</c> and sweep tables, <c>status</c> and the status page — takes its
/// paths from here. The names are part of the file format (README, "What a run writes"): existing run folders are read
/// by them, so they never change.
/// </summary>
/// <param name="path">The run folder (made absolute against the current directory); it need not exist yet.</param>
public sealed class RunFolder(string path)
{
    /// <summary>The manifest as it ran, every option filled in; its presence means the folder holds an experiment.</summary>
    public const string ResolvedManifestFileName = "manifest.resolved.json";

    /// <summary>The final figures (<see cref="RunMetrics"/>); its presence means the run finished.</summary>
    public const string MetricsFileName = "metrics.json";

    /// <summary>The figures of an earlier evaluation, kept when the manifest's evaluation changes.</summary>
    public const string PreviousMetricsFileName = "metrics.previous.json";

    /// <summary>The progress journal, one JSON line per phase start and step (<see cref="ProgressRecord"/>).</summary>
    public const string ProgressLogFileName = "progress.jsonl";

    /// <summary>Which experiment and which sweep values the folder holds (<see cref="Sweeps.PointRecord"/>).</summary>
    public const string PointFileName = "point.json";

    /// <summary>The folder, absolute.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <summary>manifest.resolved.json: see <see cref="ResolvedManifestFileName"/>.</summary>
    public string ResolvedManifest => Combine(ResolvedManifestFileName);

    /// <summary>metrics.json: see <see cref="MetricsFileName"/>.</summary>
    public string Metrics => Combine(MetricsFileName);

    /// <summary>metrics.previous.json: see <see cref="PreviousMetricsFileName"/>.</summary>
    public string PreviousMetrics => Combine(PreviousMetricsFileName);

    /// <summary>progress.jsonl: see <see cref="ProgressLogFileName"/>.</summary>
    public string ProgressLog => Combine(ProgressLogFileName);

    /// <summary>point.json: see <see cref="PointFileName"/>.</summary>
    public string Point => Combine(PointFileName);

    /// <summary>The loss and every figure over the steps, drawn from the progress log at the end of the run.</summary>
    public string ProgressPlot => Combine("progress.png");

    /// <summary>The run's full log, with stack traces of failures.</summary>
    public string Log => Combine("run.log");

    /// <summary>The distilled set (safetensors): images, pixels, targets, classes.</summary>
    public string DistilledSet => Combine("distilled.safetensors");

    /// <summary>The distilled images in pixel space, one row per class.</summary>
    public string ImageGrid => Combine("distilled.png");

    /// <summary>The support set's image grid at the latest periodic evaluation, while the run goes on.</summary>
    public string Preview => Combine("preview.png");

    /// <summary>The image grid to show: the final one when the run has finished, else the latest preview; null when neither exists yet.</summary>
    public string? LatestImageGrid => new[] { ImageGrid, Preview }.FirstOrDefault(File.Exists);

    /// <summary>Held open exclusively while a process runs in this folder, so two never run in it at once.</summary>
    public string Lock => Combine(".lock");

    /// <summary>The fitted preprocessing (safetensors), to apply to new data.</summary>
    public string Preprocessing => Combine("preprocessing.safetensors");

    /// <summary>The folder of the two latest checkpoints.</summary>
    public string Checkpoints => Combine("checkpoints");

    /// <summary>Creates the folder and its checkpoint folder.</summary>
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
