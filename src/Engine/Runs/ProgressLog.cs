using System.Diagnostics;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;

namespace Distillery.Engine.Runs;

/// <summary>
/// Writes progress as JSON lines to the run folder's progress.jsonl (<see cref="ProgressRecord"/>: a start line per
/// phase, then a line per step) and passes it on to a display: a bar on a terminal, periodic log lines otherwise.
/// </summary>
/// <remarks>
/// Time carries over from one attempt to the next: <c>elapsedSeconds</c> and <see cref="RunSeconds"/> go on from the
/// time the journal last recorded (<see cref="ProgressJournal.RecordedSeconds"/>), so a run resumed after a kill or a
/// stop reports the wall time of all its attempts, not only the last one's.
/// </remarks>
public sealed class ProgressLog : IProgressReporter, IDisposable
{
    private readonly StreamWriter _writer;
    private readonly IProgressDisplay _display;
    private readonly Stopwatch _clock;
    private readonly double _earlierSeconds;
    private string _phase = "";

    /// <summary>Opens the journal for appending, after reading how much time its earlier attempts recorded.</summary>
    /// <param name="path">The progress journal, appended to (a resumed run goes on after the earlier attempts' lines).</param>
    /// <param name="display">Where progress is shown as well.</param>
    /// <param name="processClock">This attempt's clock, started when the attempt began (so that loading the data counts); null: from now.</param>
    public ProgressLog(string path, IProgressDisplay display, Stopwatch? processClock = null)
    {
        _display = display;
        var earlier = ProgressRecord.ReadFile(path);
        _earlierSeconds = earlier.RecordedSeconds;
        _clock = processClock ?? Stopwatch.StartNew();
        _writer = new StreamWriter(path, append: true) { AutoFlush = true };
        // A killed attempt may have left half a line: end it, so that this attempt's first line is not glued to it.
        if (earlier.UnfinishedLastLine) _writer.WriteLine();
    }

    /// <summary>Wall-clock seconds of the run so far: the earlier attempts' recorded time plus this attempt's.</summary>
    public double RunSeconds => _earlierSeconds + _clock.Elapsed.TotalSeconds;

    /// <summary>Writes a <see cref="PhaseStartRecord"/> line and passes the start on to the display.</summary>
    public void Start(string phase, long totalSteps, long firstStep = 0)
    {
        _phase = phase;
        _writer.WriteLine(new PhaseStartRecord(phase, totalSteps, firstStep, Elapsed()).ToJsonLine());
        _display.Start(phase, totalSteps, firstStep);
    }

    /// <summary>Writes a <see cref="StepRecord"/> line and passes the update on to the display.</summary>
    public void Report(ProgressUpdate update)
    {
        var figures = update.Metrics ?? new Dictionary<string, double>();
        _writer.WriteLine(new StepRecord(_phase, update.Step, Elapsed(), update.Loss, figures).ToJsonLine());
        _display.Report(update);
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _writer.Dispose();

    private double Elapsed() => Math.Round(RunSeconds, 3);
}

/// <summary>Shows progress to a person.</summary>
public interface IProgressDisplay
{
    void Start(string phase, long totalSteps, long firstStep);
    void Report(ProgressUpdate update);
}

/// <summary>For logs and redirected output: a line about every twentieth of the work, and whenever figures arrive.</summary>
public sealed class LogProgressDisplay(ILogger logger) : IProgressDisplay
{
    private string _phase = "";
    private long _total;
    private long _every = 1;
    private long _nextLine;

    public void Start(string phase, long totalSteps, long firstStep)
    {
        (_phase, _total, _every) = (phase, totalSteps, Math.Max(1, totalSteps / 20));
        _nextLine = (firstStep / _every + 1) * _every;
        logger.LogInformation("{Phase}: {Total} steps{Resume}", phase, totalSteps, firstStep > 0 ? $", resuming at step {firstStep}" : "");
    }

    public void Report(ProgressUpdate update)
    {
        if (update.Metrics is { Count: > 0 })
            logger.LogInformation("{Phase} step {Step}/{Total}: {Metrics}", _phase, update.Step, _total,
                string.Join(", ", update.Metrics.Select(m => $"{m.Key} {m.Value:G4}")));
        // Plugins may report every k-th step only: a line at the first report past each twentieth, not at exact multiples.
        else if (update.Step >= _nextLine || update.Step == _total)
        {
            logger.LogInformation("{Phase} step {Step}/{Total}{Loss}", _phase, update.Step, _total, update.Loss is { } l ? $", loss {l:G5}" : "");
            _nextLine = (update.Step / _every + 1) * _every;
        }
    }
}
