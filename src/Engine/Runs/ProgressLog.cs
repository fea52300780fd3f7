using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions.Runs;
using Distillery.Engine.Outputs;
using Microsoft.Extensions.Logging;

namespace Distillery.Engine.Runs;

/// <summary>
/// Writes progress as JSON lines to the run folder — a start line per phase (totalSteps, firstStep), then per step
/// the phase, step, loss, elapsed seconds and any figures — and passes it on
/// to a display: a bar on a terminal, periodic log lines otherwise.
/// </summary>
public sealed class ProgressLog(string path, IProgressDisplay display) : IProgressReporter, IDisposable
{
    private readonly StreamWriter _writer = new(path, append: true) { AutoFlush = true };
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _phase = "";

    public void Start(string phase, long totalSteps, long firstStep = 0)
    {
        _phase = phase;
        var line = new JsonObject
        {
            ["phase"] = phase,
            ["event"] = "start",
            ["totalSteps"] = totalSteps,
            ["firstStep"] = firstStep,
            ["elapsedSeconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 3),
        };
        _writer.WriteLine(line.ToJsonString());
        display.Start(phase, totalSteps, firstStep);
    }

    public void Report(ProgressUpdate update)
    {
        var line = new JsonObject
        {
            ["phase"] = _phase,
            ["step"] = update.Step,
            ["elapsedSeconds"] = Math.Round(_clock.Elapsed.TotalSeconds, 3),
        };
        if (update.Loss is { } loss) line["loss"] = JsonNumbers.FiniteOrNull(loss);
        if (update.Metrics is { Count: > 0 } metrics)
            line["metrics"] = new JsonObject(metrics.Select(m => KeyValuePair.Create(m.Key, JsonNumbers.FiniteOrNull(m.Value))));
        _writer.WriteLine(line.ToJsonString());
        display.Report(update);
    }

    public void Dispose() => _writer.Dispose();
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
