using System.Diagnostics;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;

namespace Distillery.Engine.Runs;

/// <summary>
/// Writes progress as JSON lines to the run folder's progress.jsonl (<see cref="ProgressRecord"/>: a start line per
/// phase, then a line per step) and passes it on to a display: a bar on a terminal, periodic log lines otherwise.
/// </summary>
/// <param name="path">The progress journal, appended to (a resumed run goes on after the earlier attempt's lines).</param>
/// <param name="display">Where progress is shown as well.</param>
public sealed class ProgressLog(string path, IProgressDisplay display) : IProgressReporter, IDisposable
{
    private readonly StreamWriter _writer = new(path, append: true) { AutoFlush = true };
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _phase = "";

    /// <summary>Writes a <see cref="PhaseStartRecord"/> line and passes the start on to the display.</summary>
    public void Start(string phase, long totalSteps, long firstStep = 0)
    {
        _phase = phase;
        _writer.WriteLine(new PhaseStartRecord(phase, totalSteps, firstStep, Elapsed()).ToJsonLine());
        display.Start(phase, totalSteps, firstStep);
    }

    /// <summary>Writes a <see cref="StepRecord"/> line and passes the update on to the display.</summary>
    public void Report(ProgressUpdate update)
    {
        var figures = update.Metrics ?? new Dictionary<string, double>();
        _writer.WriteLine(new StepRecord(_phase, update.Step, Elapsed(), update.Loss, figures).ToJsonLine());
        display.Report(update);
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _writer.Dispose();

    private double Elapsed() => Math.Round(_clock.Elapsed.TotalSeconds, 3);
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
