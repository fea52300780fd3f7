using System.Text.Json;
using System.Text.Json.Nodes;

namespace Distillery.Host.Sweeps;

/// <summary>
/// point.json in a run folder: which experiment and which sweep values it holds, so that results can be collected
/// from any set of run folders (a sweep's, or a cluster job array's shared results folder).
/// </summary>
public static class PointRecord
{
    public const string FileName = "point.json";

    public static void Write(string runFolder, string experiment, SweepPoint point)
    {
        var configuration = new JsonObject();
        foreach (var (key, value) in point.Values) configuration[key] = value?.DeepClone();
        var record = new JsonObject { ["experiment"] = experiment, ["point"] = point.Name, ["values"] = configuration };
        Directory.CreateDirectory(runFolder);
        File.WriteAllText(Path.Combine(runFolder, FileName), record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Every finished run (metrics.json present) in <paramref name="root"/> or its sub-folders, in numeric name order.</summary>
    public static IReadOnlyList<PointResult> Collect(string root)
    {
        var results = new List<PointResult>();
        var folders = new[] { root }.Concat(Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)).Order(NumericOrder.Instance);
        foreach (var folder in folders)
        {
            var metricsPath = Path.Combine(folder, "metrics.json");
            if (!File.Exists(metricsPath)) continue;
            var metrics = JsonNode.Parse(File.ReadAllText(metricsPath))!.AsObject();
            results.Add(new PointResult(Path.GetRelativePath(root, folder), Configuration(folder), metrics));
        }
        return results;
    }

    /// <summary>The experiment name and the swept values other than the seed.</summary>
    private static IReadOnlyList<KeyValuePair<string, string>> Configuration(string folder)
    {
        var path = Path.Combine(folder, FileName);
        var configuration = new List<KeyValuePair<string, string>>();
        if (!File.Exists(path))
        {
            configuration.Add(KeyValuePair.Create("experiment", Path.GetFileName(folder)));
            return configuration;
        }
        var record = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        configuration.Add(KeyValuePair.Create("experiment", record["experiment"]?.GetValue<string>() ?? ""));
        foreach (var (key, value) in record["values"]?.AsObject() ?? [])
            if (!SweepExpander.IsSeed(key))
                configuration.Add(KeyValuePair.Create(key, SweepExpander.Display(value)));
        return configuration;
    }
}
