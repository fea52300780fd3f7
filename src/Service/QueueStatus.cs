using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Runs;

namespace Distillery.Service;

/// <summary>
/// Where one queue item stands, read from the queue folders and its run folder. <see cref="Problem"/> says which of
/// its files is damaged and was skipped (e.g. a torn metrics.json), when one is; the other fields hold what could be read.
/// </summary>
/// <param name="Attempts">Attempts made so far, the one under way included (0 while queued).</param>
/// <param name="Owner">For an item in running/: the service that holds it and its lease, or why it waits; else null.</param>
public sealed record ItemStatus(
    string Id,
    string State,
    DateTime UpdatedUtc,
    string? Phase,
    long? Step,
    long? TotalSteps,
    double? Loss,
    IReadOnlyDictionary<string, double> Metrics,
    string? Reason,
    bool HasImageGrid,
    int Attempts,
    string? Owner,
    string? Problem = null)
{
    public JsonObject ToJson() => new()
    {
        ["id"] = Id,
        ["state"] = State,
        ["updated"] = UpdatedUtc.ToString("O"),
        ["phase"] = Phase,
        ["step"] = Step,
        ["totalSteps"] = TotalSteps,
        ["loss"] = Loss is { } l && double.IsFinite(l) ? l : null,
        ["metrics"] = new JsonObject(Metrics.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))),
        ["reason"] = Reason,
        ["hasImageGrid"] = HasImageGrid,
        ["attempts"] = Attempts,
        ["owner"] = Owner,
        ["problem"] = Problem,
    };
}

/// <summary>
/// Reads the state of a queue without touching it: what `distillery status` prints and the status page shows.
/// Progress comes from each run's progress.jsonl (the last start line and the last step), final figures from
/// metrics.json. A damaged file (a garbage metrics.json, a corrupt progress line) does not stop the listing: the
/// item is shown with what could be read and a problem naming the file.
/// </summary>
public sealed class QueueStatus(string queueFolder)
{
    private readonly QueueFolders _queue = new(queueFolder);

    public IReadOnlyList<ItemStatus> Items() =>
        Manifests().Select(m => Read(QueueFolders.IdOf(m.Path), m.State, File.GetLastWriteTimeUtc(m.Path))).ToList();

    /// <summary>One item, reading only its own files.</summary>
    public ItemStatus? Item(string id) =>
        Manifests().Where(m => QueueFolders.IdOf(m.Path) == id)
            .Select(m => Read(id, m.State, File.GetLastWriteTimeUtc(m.Path))).FirstOrDefault();

    /// <summary>Every item's manifest with its state, running items first.</summary>
    private IEnumerable<(string State, string Path)> Manifests() =>
        new[] { ("running", _queue.Running), ("queued", _queue.Inbox), ("failed", _queue.Failed), ("done", _queue.Done) }
            .SelectMany(s => QueueFolders.Manifests(s.Item2).Select(path => (s.Item1, path)));

    /// <summary>The run's image grid: the final one when finished, else the latest preview.</summary>
    public string? ImageGrid(string id) => new RunFolder(_queue.RunFolder(id)).LatestImageGrid;

    /// <summary>(step, loss) pairs of the run, thinned to at most <paramref name="points"/>.</summary>
    public IReadOnlyList<(long Step, double Loss)> LossCurve(string id, int points = 400)
    {
        var curve = Progress(id).Steps
            .Where(s => s.Loss is not null)
            .Select(s => (s.Step!.Value, s.Loss!.Value))
            .GroupBy(p => p.Item1).Select(g => g.Last()) // a resumed run repeats steps after its checkpoint
            .ToList();
        var stride = Math.Max(1, curve.Count / points);
        return curve.Where((_, i) => i % stride == 0 || i == curve.Count - 1).ToList();
    }

    private ItemStatus Read(string id, string state, DateTime updated)
    {
        string? phase = null;
        long? step = null, total = null;
        double? loss = null;
        var metrics = new Dictionary<string, double>();
        var problems = new List<string>();
        var progress = Progress(id);
        foreach (var record in progress.Records)
        {
            if (record is PhaseStartRecord start)
            {
                (phase, total, step) = (start.Phase, start.TotalSteps, start.FirstStep);
                continue;
            }
            var line = (StepRecord)record;
            step = line.Step ?? step;
            loss = line.Loss ?? loss;
            foreach (var (key, value) in line.Metrics) metrics[key] = value;
        }
        if (progress.Problem is { } damaged) problems.Add(damaged);

        try
        {
            if (RunMetrics.TryRead(new RunFolder(_queue.RunFolder(id)).Metrics) is { } final) metrics = final.Figures().ToDictionary();
        }
        catch (DataFormatException e)
        {
            problems.Add(e.Message + "; its figures are not shown");
        }
        var owner = state == "running" ? ItemOwner.Read(_queue.OwnerFile(id)) : null;
        var reasonFile = _queue.ReasonFile(id);
        var reason = state == "failed" && File.Exists(reasonFile) ? ReadReason(reasonFile) : null;
        return new ItemStatus(id, state, updated, phase, step, total, loss, metrics, reason, ImageGrid(id) is not null,
            Attempts(id, state, owner), state == "running" ? Describe(owner) : null,
            problems.Count > 0 ? string.Join("; ", problems) : null);
    }

    /// <summary>
    /// Failed attempts recorded beside the manifest, plus the one under way or that succeeded. A running item whose run
    /// has ended counts as the folder it waits to be filed into.
    /// </summary>
    private int Attempts(string id, string state, ItemOwner? owner)
    {
        var folder = state switch { "running" => _queue.Running, "done" => _queue.Done, "failed" => _queue.Failed, _ => null };
        if (folder is null) return 0;
        var failed = AttemptLog.FailedAttempts(QueueFolders.ReasonFile(folder, id));
        return (owner?.Filing ?? state) == "failed" ? Math.Max(failed, 1) : failed + 1;
    }

    /// <summary>Who holds a running item and until when, or that its run has ended and it waits to be filed (and why).</summary>
    private static string Describe(ItemOwner? owner)
    {
        if (owner is null) return "no owner: the next service takes it over";
        var text = $"{QueueOwnership.Describe(owner)}, lease until {owner.LeaseExpiresUtc:HH:mm:ss} UTC";
        if (owner.Filing is { } filing) text += $"; run ended, to be filed into {filing}/";
        if (owner.Problem is { } problem) text += $": {problem}";
        return text;
    }

    /// <summary>The service's reason file, at most its first 64 KiB (it holds the run's error lines).</summary>
    private static string ReadReason(string path)
    {
        using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
        var buffer = new char[64 * 1024];
        return new string(buffer, 0, reader.ReadBlock(buffer)).Trim();
    }

    /// <summary>The run's progress journal as far as it is written (<see cref="ProgressRecord.ReadFile"/>).</summary>
    private ProgressJournal Progress(string id) => ProgressRecord.ReadFile(new RunFolder(_queue.RunFolder(id)).ProgressLog);
}
