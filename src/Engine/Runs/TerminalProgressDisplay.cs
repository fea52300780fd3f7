using System.Globalization;
using Distillery.Abstractions.Runs;
using Spectre.Console;

namespace Distillery.Engine.Runs;

/// <summary>A live progress bar per phase on an interactive terminal (Spectre.Console).</summary>
public sealed class TerminalProgressDisplay(ProgressContext context) : IProgressDisplay
{
    private ProgressTask? _task;
    private string _phase = "";

    public void Start(string phase, long totalSteps, long firstStep)
    {
        _task?.StopTask();
        _phase = phase;
        _task = context.AddTask(Markup.Escape(phase), maxValue: Math.Max(1, totalSteps));
        _task.Value = firstStep;
    }

    public void Report(ProgressUpdate update)
    {
        if (_task is null) return;
        _task.Value = update.Step;
        var details = new List<string>();
        if (update.Loss is { } loss) details.Add("loss " + loss.ToString("G4", CultureInfo.InvariantCulture));
        if (update.Metrics is { } metrics)
            details.AddRange(metrics.Select(m => m.Key + " " + m.Value.ToString("G4", CultureInfo.InvariantCulture)));
        if (details.Count > 0) _task.Description = Markup.Escape($"{_phase} ({string.Join(", ", details)})");
    }
}
