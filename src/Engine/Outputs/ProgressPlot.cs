using System.Globalization;
using Distillery.Engine.Runs;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Distillery.Engine.Outputs;

/// <summary>
/// progress.png: the loss of every phase over its steps (log scale when positive), every accuracy figure over the
/// steps in percent on one panel, and each other figure that changes on a panel of its own. Read from the lines of
/// progress.jsonl (a step logged twice by a resumed run counts once, the later line winning) plus the final figures.
/// </summary>
public static class ProgressPlot
{
    /// <summary>Draws the plot; returns false (and writes nothing) when the progress holds no loss and no figure.</summary>
    /// <param name="path">The PNG to write.</param>
    /// <param name="progress">The readable lines of progress.jsonl (<see cref="ProgressRecord.ReadFile"/>).</param>
    /// <param name="finalFigures">Figures measured after the last step, as (phase, step, "evaluator.figure" → value), or null.</param>
    public static bool Write(string path, IEnumerable<ProgressRecord> progress,
                             (string Phase, long Step, IReadOnlyDictionary<string, double> Figures)? finalFigures = null)
    {
        var series = Read(progress);
        if (finalFigures is { } final)
            foreach (var (figure, value) in final.Figures)
                Points(series, final.Phase, figure)[final.Step] = value;

        var panels = new List<Plot>();
        if (series.Where(s => s.Key.Figure == Loss).ToList() is { Count: > 0 } losses)
            panels.Add(LossPanel(losses));
        var figures = series.Where(s => s.Key.Figure != Loss).ToList();
        if (figures.Where(s => IsAccuracy(s.Key.Figure)).ToList() is { Count: > 0 } accuracies)
            panels.Add(LinePanel("Accuracy", "accuracy %", accuracies, 100, Alignment.LowerRight)); // rising curves end top right
        // Figures that never change (test-set size, seed count) say nothing over steps.
        foreach (var group in figures.Where(s => !IsAccuracy(s.Key.Figure)).GroupBy(s => s.Key.Figure))
            if (group.SelectMany(s => s.Value.Values).Distinct().Count() > 1)
                panels.Add(LinePanel(group.Key, group.Key, group.ToList(), 1, Alignment.UpperRight));
        if (panels.Count == 0) return false;
        PlotPanels.Save(path, panels);
        return true;
    }

    private const string Loss = "loss";

    private static bool IsAccuracy(string figure) => Sweeps.ResultsTable.IsPercentage(figure);

    private static Dictionary<(string Phase, string Figure), SortedDictionary<long, double>> Read(IEnumerable<ProgressRecord> records)
    {
        var series = new Dictionary<(string Phase, string Figure), SortedDictionary<long, double>>();
        foreach (var record in records)
        {
            if (record is not StepRecord { Step: { } step } line) continue;
            if (line.Loss is { } loss) Points(series, line.Phase, Loss)[step] = loss;
            foreach (var (figure, value) in line.Metrics) Points(series, line.Phase, figure)[step] = value;
        }
        return series;
    }

    private static SortedDictionary<long, double> Points(
        Dictionary<(string Phase, string Figure), SortedDictionary<long, double>> series, string phase, string figure)
    {
        if (!series.TryGetValue((phase, figure), out var points)) series[(phase, figure)] = points = [];
        return points;
    }

    private static Plot LossPanel(List<KeyValuePair<(string Phase, string Figure), SortedDictionary<long, double>>> losses)
    {
        // ScottPlot draws log scales as log10 of the data with ticks labelled back in the original units; worth it
        // only over more than a decade, where a linear axis would flatten the tail.
        var values = losses.SelectMany(s => s.Value.Values).ToList();
        var logarithmic = values.Min() > 0 && values.Max() / values.Min() > 20;
        var plot = PlotPanels.Panel("Loss", "step", logarithmic ? "loss (log scale)" : "loss");
        foreach (var ((phase, _), points) in losses)
        {
            var ys = points.Values.Select(v => logarithmic ? Math.Log10(v) : v).ToArray();
            var line = plot.Add.Scatter(points.Keys.Select(k => (double)k).ToArray(), ys);
            line.LegendText = $"{phase} loss";
            line.MarkerSize = points.Count > 60 ? 0 : 4;
        }
        if (logarithmic)
            plot.Axes.Left.TickGenerator = new NumericAutomatic
            {
                MinorTickGenerator = new LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Math.Pow(10, y).ToString("G3", CultureInfo.InvariantCulture),
            };
        return plot;
    }

    private static Plot LinePanel(string title, string yLabel,
                                  List<KeyValuePair<(string Phase, string Figure), SortedDictionary<long, double>>> series, double scale,
                                  Alignment legend)
    {
        var plot = PlotPanels.Panel(title, "step", yLabel, legend);
        var phases = series.Select(s => s.Key.Phase).Distinct().Count();
        foreach (var ((phase, figure), points) in series)
        {
            var line = plot.Add.Scatter(points.Keys.Select(k => (double)k).ToArray(), points.Values.Select(v => v * scale).ToArray());
            line.LegendText = phases > 1 ? $"{phase} {figure}" : figure;
            line.MarkerSize = 6;
        }
        return plot;
    }
}
