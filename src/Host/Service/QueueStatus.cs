using System.Text.Json.Nodes;

namespace Distillery.Host.Service;

/// <summary>Where one queue item stands, read from the queue folders and its run folder.</summary>
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
    string? Owner)
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
    };
}

/// <summary>
/// Reads the state of a queue without touching it: what `distillery status` prints and the status page shows.
/// Progress comes from each run's progress.jsonl (the last start line and the last step), final figures from
/// metrics.json.
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
    public string? ImageGrid(string id)
    {
        var folder = _queue.RunFolder(id);
        return new[] { "distilled.png", "preview.png" }.Select(f => Path.Combine(folder, f)).FirstOrDefault(File.Exists);
    }

    /// <summary>(step, loss) pairs of the run, thinned to at most <paramref name="points"/>.</summary>
    public IReadOnlyList<(long Step, double Loss)> LossCurve(string id, int points = 400)
    {
        var curve = ProgressLines(id)
            .Where(l => l["loss"] is JsonValue && l["step"] is JsonValue)
            .Select(l => (l["step"]!.GetValue<long>(), l["loss"]!.GetValue<double>()))
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
        foreach (var line in ProgressLines(id))
        {
            if (line["event"]?.GetValue<string>() == "start")
            {
                (phase, total, step) = (line["phase"]?.GetValue<string>(), line["totalSteps"]?.GetValue<long>(), line["firstStep"]?.GetValue<long>());
                continue;
            }
            step = line["step"]?.GetValue<long>() ?? step;
            if (line["loss"] is JsonValue l) loss = l.GetValue<double>();
            if (line["metrics"] is JsonObject m)
                foreach (var (key, value) in m) if (value is JsonValue v) metrics[key] = v.GetValue<double>();
        }

        var metricsFile = Path.Combine(_queue.RunFolder(id), "metrics.json");
        if (File.Exists(metricsFile))
        {
            metrics.Clear();
            foreach (var (key, value) in Sweeps.ResultsTable.Figures(JsonNode.Parse(File.ReadAllText(metricsFile))!.AsObject()))
                metrics[key] = value;
        }
        var owner = state == "running" ? ItemOwner.Read(_queue.OwnerFile(id)) : null;
        var reasonFile = _queue.ReasonFile(id);
        var reason = state == "failed" && File.Exists(reasonFile) ? File.ReadAllText(reasonFile).Trim() : null;
        return new ItemStatus(id, state, updated, phase, step, total, loss, metrics, reason, ImageGrid(id) is not null,
            Attempts(id, state, owner), state == "running" ? Describe(owner) : null);
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

    private IEnumerable<JsonObject> ProgressLines(string id)
    {
        var path = Path.Combine(_queue.RunFolder(id), "progress.jsonl");
        if (!File.Exists(path)) yield break;
        string[] lines;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream))
            lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var text in lines)
        {
            JsonObject? line = null;
            try { line = JsonNode.Parse(text) as JsonObject; }
            catch (System.Text.Json.JsonException) { } // a line being written right now
            if (line is not null) yield return line;
        }
    }
}
