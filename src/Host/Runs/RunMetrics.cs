using System.Diagnostics;
using System.Text.Json.Nodes;

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
            (JsonNode?)new JsonObject(e.Value.Select(v => KeyValuePair.Create(v.Key, (JsonNode?)v.Value)))))),
        ["supportSize"] = SupportSize,
        ["wallSeconds"] = Math.Round(WallSeconds, 3),
        ["peakMemoryBytes"] = PeakMemoryBytes,
    };

    /// <summary>Peak resident memory of this process (VmHWM on Linux), native libtorch allocations included.</summary>
    public static long PeakResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
