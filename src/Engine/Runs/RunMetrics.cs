using System.Diagnostics;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Outputs;

namespace Distillery.Engine.Runs;

/// <summary>The final figures of a run, written as metrics.json for scripts to read.</summary>
public sealed record RunMetrics(
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Evaluations,
    double WallSeconds,
    long PeakMemoryBytes,
    int SupportSize)
{
    /// <summary><see cref="EvaluatedOn"/> of a run scored on the test set.</summary>
    public const string Test = "test";

    /// <summary><see cref="EvaluatedOn"/> of a run scored on a validation split held out of the training set (manifest <c>validation</c>).</summary>
    public const string Validation = "validation";

    /// <summary>Which images the figures were measured on: <see cref="Test"/> or <see cref="Validation"/>, written as <c>evaluatedOn</c>.</summary>
    public string EvaluatedOn { get; init; } = Test;

    public JsonObject ToJson() => new()
    {
        ["evaluatedOn"] = EvaluatedOn,
        ["evaluations"] = new JsonObject(Evaluations.Select(e => KeyValuePair.Create(e.Key,
            (JsonNode?)new JsonObject(e.Value.Select(v => KeyValuePair.Create(v.Key, JsonNumbers.FiniteOrNull(v.Value))))))),
        ["supportSize"] = SupportSize,
        ["wallSeconds"] = Math.Round(WallSeconds, 3),
        ["peakMemoryBytes"] = PeakMemoryBytes,
    };

    /// <summary>
    /// The metrics of a finished run, or null when the run has not finished (no file). A damaged file (torn, edited,
    /// a figure that is not a number) throws <see cref="DataFormatException"/> naming the file and the field.
    /// </summary>
    public static RunMetrics? TryRead(string path) => File.Exists(path) ? Read(path) : null;

    /// <summary>The metrics in <paramref name="path"/>; <see cref="DataFormatException"/> when the file is damaged.</summary>
    public static RunMetrics Read(string path)
    {
        var json = JsonFile.ReadObject(path);
        T Required<T>(string field, T? value) where T : struct =>
            value ?? throw new DataFormatException(path, $"damaged: '{field}' is missing or not a number");
        if (json["evaluations"] is not JsonObject evaluationsJson)
            throw new DataFormatException(path, "damaged: 'evaluations' is missing or not an object");
        var evaluations = new Dictionary<string, IReadOnlyDictionary<string, double>>();
        foreach (var (evaluator, figuresJson) in evaluationsJson)
        {
            if (figuresJson is not JsonObject figures)
                throw new DataFormatException(path, $"damaged: 'evaluations.{evaluator}' is not an object");
            // null stands for a non-finite figure (JSON has no NaN); anything else must be a number.
            evaluations[evaluator] = figures.ToDictionary(f => f.Key, f => f.Value is null ? double.NaN
                : JsonFile.Double(f.Value) ?? throw new DataFormatException(path, $"damaged: 'evaluations.{evaluator}.{f.Key}' is not a number"));
        }
        var supportSize = Required("supportSize", JsonFile.Long(json["supportSize"]));
        // Absent from files written before validation splits existed: those were all scored on the test set.
        var evaluatedOn = json["evaluatedOn"] is null ? Test : JsonFile.String(json["evaluatedOn"]) switch
        {
            Test => Test,
            Validation => Validation,
            _ => throw new DataFormatException(path, $"damaged: 'evaluatedOn' must be \"{Test}\" or \"{Validation}\""),
        };
        return new RunMetrics(evaluations, Required("wallSeconds", JsonFile.Double(json["wallSeconds"])),
            Required("peakMemoryBytes", JsonFile.Long(json["peakMemoryBytes"])),
            supportSize is >= 0 and <= int.MaxValue ? (int)supportSize : throw new DataFormatException(path, "damaged: 'supportSize' is out of range"))
        {
            EvaluatedOn = evaluatedOn,
        };
    }

    /// <summary>Peak resident memory of this process (VmHWM on Linux), native libtorch allocations included.</summary>
    public static long PeakResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
