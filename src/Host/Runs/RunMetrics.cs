using System.Diagnostics;
using System.Text.Json.Nodes;
using Distillery.Host.Outputs;

namespace Distillery.Host.Runs;

/// <summary>The final figures of a run, written as metrics.json for scripts to read.</summary>
public sealed record RunMetrics(
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluations,
    double WallSeconds,
    long PeakMemoryBytes,
    int SupportSize)
{
    public JsonObject ToJson() => new()
    {
        ["evaluations"] = new JsonObject(Evaluations.Select(e => KeyValuePair.Create(e.Key,
            (JsonNode?)new JsonObject(e.Value.Select(v => KeyValuePair.Create(v.Key, JsonNumbers.FiniteOrNull(v.Value))))))),
        ["supportSize"] = SupportSize,
        ["wallSeconds"] = Math.Round(WallSeconds, 3),
        ["peakMemoryBytes"] = PeakMemoryBytes,
    };

    /// <summary>The metrics of a finished run, or null when the run has not finished.</summary>
    public static RunMetrics? TryRead(string path)
    {
        if (!File.Exists(path)) return null;
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var evaluations = (json["evaluations"]?.AsObject() ?? []).ToDictionary(
            e => e.Key,
            e => (IReadOnlyDictionary<string, double>)(e.Value?.AsObject() ?? []).ToDictionary(f => f.Key, f => f.Value?.GetValue<double>() ?? double.NaN));
        return new RunMetrics(evaluations, json["wallSeconds"]!.GetValue<double>(), json["peakMemoryBytes"]!.GetValue<long>(), json["supportSize"]!.GetValue<int>());
    }


    /// <summary>Peak resident memory of this process (VmHWM on Linux), native libtorch allocations included.</summary>
    public static long PeakResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
