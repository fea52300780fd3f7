using System.Text.Json.Nodes;
using Distillery.Engine.Outputs;

namespace Distillery.Engine.Runs;

/// <summary>
/// One line of progress.jsonl (<see cref="RunFolder.ProgressLog"/>): a <see cref="PhaseStartRecord"/> when a phase
/// starts or resumes, or a <see cref="StepRecord"/> per reported step. The one writer (<see cref="ToJsonLine"/>, used by
/// <see cref="ProgressLog"/>) and the one reader (<see cref="Parse"/>, <see cref="ReadFile"/>) of the format.
/// </summary>
/// <remarks>
/// The reader takes what it can from a line written by any version: a field that is missing or of the wrong type is
/// null (a figure that is not a number is left out), and only a line that is not a JSON object is damaged — so a line
/// edited by hand costs its bad fields, not the line. JSON has no NaN: a non-finite loss or figure is written as
/// null and so reads back as absent.
/// </remarks>
/// <param name="Phase">The phase the line belongs to (e.g. <c>kip</c>, <c>transfer</c>); "" when a line lacks it.</param>
/// <param name="ElapsedSeconds">
/// Wall-clock seconds of the run so far, over all its attempts (a resumed run goes on from the time its journal last
/// recorded; journals written before that counted each attempt from 0), rounded to milliseconds; null when absent.
/// </param>
public abstract record ProgressRecord(string Phase, double? ElapsedSeconds)
{
    /// <summary>The line as written to progress.jsonl (compact JSON, no newline).</summary>
    public abstract string ToJsonLine();

    /// <summary>The record of one line, or null when the line is not a JSON object (torn, edited).</summary>
    public static ProgressRecord? Parse(string line)
    {
        if (JsonFile.ParseObject(line) is not { } json) return null;
        var phase = JsonFile.String(json["phase"]) ?? "";
        var elapsed = JsonFile.Double(json["elapsedSeconds"]);
        if (JsonFile.String(json["event"]) == PhaseStartRecord.Event)
            return new PhaseStartRecord(phase, JsonFile.Long(json["totalSteps"]), JsonFile.Long(json["firstStep"]), elapsed);
        var metrics = new Dictionary<string, double>();
        if (json["metrics"] is JsonObject figures)
            foreach (var (figure, value) in figures)
                if (JsonFile.Double(value) is { } number) metrics[figure] = number;
        return new StepRecord(phase, JsonFile.Long(json["step"]), elapsed, JsonFile.Double(json["loss"]), metrics);
    }

    /// <summary>
    /// Every readable line of the progress journal at <paramref name="path"/> (empty when there is none yet), read while
    /// a run may be appending to it. The last line may be half-written right now and is skipped silently; any earlier
    /// line that is not a JSON object is damage, listed in <see cref="ProgressJournal.DamagedLines"/>.
    /// </summary>
    public static ProgressJournal ReadFile(string path)
    {
        if (!File.Exists(path)) return new ProgressJournal(path, [], []);
        string[] lines;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        using (var reader = new StreamReader(stream))
            lines = reader.ReadToEnd().Split('\n');
        var records = new List<ProgressRecord>();
        var damaged = new List<int>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Length == 0) continue;
            if (Parse(lines[i]) is { } record) records.Add(record);
            else if (i < lines.Length - 1) damaged.Add(i + 1); // the last piece has no newline yet: still being written
        }
        return new ProgressJournal(path, records, damaged, UnfinishedLastLine: lines[^1].Length > 0);
    }
}

/// <summary>A phase starts (or resumes after a checkpoint): <c>{"phase","event":"start","totalSteps","firstStep","elapsedSeconds"}</c>.</summary>
/// <param name="Phase">The phase that starts.</param>
/// <param name="TotalSteps">The phase's steps in all; null when a line lacks it.</param>
/// <param name="FirstStep">The step it starts from: 0, or the checkpoint's step when resumed; null when a line lacks it.</param>
/// <param name="ElapsedSeconds">Wall-clock seconds of the run so far, over all its attempts (<see cref="ProgressRecord"/>); null when a line lacks it.</param>
public sealed record PhaseStartRecord(string Phase, long? TotalSteps, long? FirstStep, double? ElapsedSeconds)
    : ProgressRecord(Phase, ElapsedSeconds)
{
    /// <summary>The <c>event</c> value that marks a start line.</summary>
    public const string Event = "start";

    /// <inheritdoc/>
    public override string ToJsonLine() => new JsonObject
    {
        ["phase"] = Phase,
        ["event"] = Event,
        ["totalSteps"] = TotalSteps,
        ["firstStep"] = FirstStep,
        ["elapsedSeconds"] = ElapsedSeconds,
    }.ToJsonString();
}

/// <summary>
/// A step was reported: <c>{"phase","step","elapsedSeconds","loss"?,"metrics"?}</c>. The step-0 line of a phase (the
/// evaluation of its starting point) has metrics and no loss.
/// </summary>
/// <param name="Phase">The phase the step belongs to.</param>
/// <param name="Step">The step; null when a line lacks it or it is not an integer.</param>
/// <param name="ElapsedSeconds">Wall-clock seconds of the run so far, over all its attempts (<see cref="ProgressRecord"/>); null when a line lacks it.</param>
/// <param name="Loss">The step's loss; null when none was reported (and, read back, when it was not finite).</param>
/// <param name="Metrics">Figures measured at this step ("evaluator.figure" → value); empty when none were.</param>
public sealed record StepRecord(string Phase, long? Step, double? ElapsedSeconds, double? Loss, IReadOnlyDictionary<string, double> Metrics)
    : ProgressRecord(Phase, ElapsedSeconds)
{
    /// <inheritdoc/>
    public override string ToJsonLine()
    {
        var line = new JsonObject { ["phase"] = Phase, ["step"] = Step, ["elapsedSeconds"] = ElapsedSeconds };
        if (Loss is { } loss) line["loss"] = JsonNumbers.FiniteOrNull(loss);
        if (Metrics.Count > 0)
            line["metrics"] = new JsonObject(Metrics.Select(m => KeyValuePair.Create(m.Key, JsonNumbers.FiniteOrNull(m.Value))));
        return line.ToJsonString();
    }
}

/// <summary>What <see cref="ProgressRecord.ReadFile"/> found in a progress journal.</summary>
/// <param name="Path">The file read.</param>
/// <param name="Records">The readable lines, in file order (a resumed run repeats the steps after its checkpoint).</param>
/// <param name="DamagedLines">1-based numbers of the lines that are not JSON objects, the torn last line excepted.</param>
/// <param name="UnfinishedLastLine">
/// Whether the file ends without a newline: its last line is still being written, or was left half-written by a killed
/// attempt (then whoever appends next must end it first).
/// </param>
public sealed record ProgressJournal(string Path, IReadOnlyList<ProgressRecord> Records, IReadOnlyList<int> DamagedLines, bool UnfinishedLastLine = false)
{
    /// <summary>The damage in words, naming the file and at most five line numbers (never the content); null when there is none.</summary>
    public string? Problem => DamagedLines.Count == 0 ? null
        : $"{Path}: line{(DamagedLines.Count > 1 ? "s" : "")} {string.Join(", ", DamagedLines.Take(5))}{(DamagedLines.Count > 5 ? ", …" : "")} damaged (not a JSON object); skipped";

    /// <summary>
    /// Wall-clock seconds the run had spent, over all its attempts, when the journal's last timed line was written; 0
    /// when no line has a time. Each attempt goes on from the time its predecessor recorded, so this is the last line's
    /// <c>elapsedSeconds</c>; journals written before time carried over count each attempt from 0, and there every drop
    /// of <c>elapsedSeconds</c> starts another attempt whose time is added. Time an attempt spent after its last line
    /// (a killed one) is not recorded anywhere and so is not counted.
    /// </summary>
    public double RecordedSeconds
    {
        get
        {
            double earlierAttempts = 0, last = 0;
            foreach (var seconds in Records.Select(r => r.ElapsedSeconds).OfType<double>())
            {
                if (seconds < last) earlierAttempts += last;
                last = seconds;
            }
            return earlierAttempts + last;
        }
    }

    /// <summary>The step lines with a step number, in file order.</summary>
    public IEnumerable<StepRecord> Steps => Records.OfType<StepRecord>().Where(s => s.Step is not null);
}
