using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Outputs;

namespace Distillery.Engine.Runs;

/// <summary>
/// The final figures of a run: the typed record of metrics.json (<see cref="RunFolder.Metrics"/>), written for scripts to
/// read, with its one writer (<see cref="Write"/>) and its one reader (<see cref="Read"/>), which every reader of a run
/// folder — the runner's resume check, <c>collect</c> and sweep tables, <c>status</c> and the status page — goes through.
/// </summary>
/// <param name="Evaluations">evaluator → figure → value (accuracies as fractions); NaN for a non-finite figure, written as null.</param>
/// <param name="WallSeconds">
/// Wall-clock seconds of the run over all its attempts: a resumed or re-evaluated run adds this process's time to the
/// time its progress journal recorded for the earlier ones (<see cref="ProgressJournal.RecordedSeconds"/>).
/// </param>
/// <param name="PeakMemoryBytes">
/// Peak resident memory of the run, native libtorch allocations included (<see cref="PeakMemory"/>): on Linux the
/// run's own peak, since the process's peak is reset when each run starts (so each point of an in-process sweep
/// reports its own); where the reset is refused or unsupported, the process's peak so far.
/// </param>
/// <param name="SupportSize">Images in the distilled set.</param>
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

    /// <summary>The file's JSON object, fields in the order written.</summary>
    public JsonObject ToJson() => new()
    {
        ["evaluatedOn"] = EvaluatedOn,
        ["evaluations"] = new JsonObject(Evaluations.Select(e => KeyValuePair.Create(e.Key,
            (JsonNode?)new JsonObject(e.Value.Select(v => KeyValuePair.Create(v.Key, JsonNumbers.FiniteOrNull(v.Value))))))),
        ["supportSize"] = SupportSize,
        ["wallSeconds"] = Math.Round(WallSeconds, 3),
        ["peakMemoryBytes"] = PeakMemoryBytes,
    };

    /// <summary>Writes metrics.json at <paramref name="path"/> atomically (indented), so a reader never sees half of it.</summary>
    public void Write(string path) =>
        AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Every finite figure as "evaluator.figure" → value (e.g. krr.testAccuracy), evaluators and figures in file order.</summary>
    public IEnumerable<KeyValuePair<string, double>> Figures() =>
        Evaluations.SelectMany(e => e.Value.Where(f => double.IsFinite(f.Value)).Select(f => KeyValuePair.Create($"{e.Key}.{f.Key}", f.Value)));

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
}
