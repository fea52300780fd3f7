using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Outputs;
using Distillery.Engine.Runs;

namespace Distillery.Engine.Sweeps;

/// <summary>
/// point.json in a run folder: which experiment and which sweep values it holds, so that results can be collected
/// from any set of run folders (a sweep's, or a cluster job array's shared results folder).
/// </summary>
public static class PointRecord
{
    /// <summary>Writes point.json into <paramref name="runFolder"/> (created when missing): the experiment's name and the point's name and values.</summary>
    public static void Write(string runFolder, string experiment, SweepPoint point)
    {
        var configuration = new JsonObject();
        foreach (var (key, value) in point.Values) configuration[key] = value?.DeepClone();
        var record = new JsonObject { ["experiment"] = experiment, ["point"] = point.Name, ["values"] = configuration };
        Directory.CreateDirectory(runFolder);
        File.WriteAllText(new RunFolder(runFolder).Point, record.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>The finished runs found by <see cref="Collect"/>, and why each damaged one was skipped.</summary>
    public sealed record Collection(IReadOnlyList<PointResult> Finished, IReadOnlyList<string> Skipped);

    /// <summary>
    /// Every finished run (metrics.json present) in <paramref name="root"/> or its sub-folders, in numeric name order.
    /// A run whose metrics.json or point.json is damaged is skipped, with the file and the problem in
    /// <see cref="Collection.Skipped"/>, so one bad folder does not hide the others.
    /// </summary>
    public static Collection Collect(string root)
    {
        var results = new List<PointResult>();
        var skipped = new List<string>();
        var folders = new[] { root }.Concat(Directory.EnumerateDirectories(root, "*", SearchOption.AllDirectories)).Order(NumericOrder.Instance);
        foreach (var folder in folders)
        {
            try
            {
                if (RunMetrics.TryRead(new RunFolder(folder).Metrics) is not { } metrics) continue;
                results.Add(new PointResult(Path.GetRelativePath(root, folder), Configuration(folder), metrics));
            }
            catch (DataFormatException e)
            {
                skipped.Add(e.Message);
            }
        }
        return new Collection(results, skipped);
    }

    /// <summary>The experiment name and the swept values other than the seed.</summary>
    private static IReadOnlyList<KeyValuePair<string, string>> Configuration(string folder)
    {
        var path = new RunFolder(folder).Point;
        var configuration = new List<KeyValuePair<string, string>>();
        if (!File.Exists(path))
        {
            configuration.Add(KeyValuePair.Create("experiment", Path.GetFileName(folder)));
            return configuration;
        }
        var record = JsonFile.ReadObject(path);
        configuration.Add(KeyValuePair.Create("experiment", JsonFile.String(record["experiment"]) ?? ""));
        if (record["values"] is not (null or JsonObject)) throw new DataFormatException(path, "damaged: 'values' is not an object");
        foreach (var (key, value) in record["values"]?.AsObject() ?? [])
            if (!SweepExpander.IsSeed(key))
                configuration.Add(KeyValuePair.Create(key, SweepExpander.Display(value)));
        return configuration;
    }
}
