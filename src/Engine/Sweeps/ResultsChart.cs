using Distillery.Engine.Outputs;
using ScottPlot;

namespace Distillery.Engine.Sweeps;

/// <summary>
/// results.png: for each figure of a results table, one panel of horizontal bars — one per configuration, its mean
/// over the seeds with an error bar of ± one sample standard deviation (accuracies in percent). Figures with the
/// same value in every run (test-set size, seed count) are left out: they compare nothing.
/// </summary>
public static class ResultsChart
{
    /// <summary>Draws the chart of <paramref name="table"/> into <paramref name="path"/>; removes it when no figure varies.</summary>
    public static void Write(string path, ResultsTable table)
    {
        var panels = new List<Plot>();
        var configurations = 0;
        foreach (var figure in table.FigureNames)
        {
            var rows = table.Summary(figure).ToList();
            if (rows.Count == 0 || (rows.Sum(r => r.Runs) > 1 && rows.All(r => r.StandardDeviation == 0) && rows.Select(r => r.Mean).Distinct().Count() == 1))
                continue;
            panels.Add(Panel(figure, rows));
            configurations = Math.Max(configurations, rows.Count);
        }
        if (panels.Count == 0)
        {
            File.Delete(path); // an earlier chart of other runs would mislead
            return;
        }
        PlotPanels.Save(path, panels, Math.Max(PlotPanels.PanelHeight, 110 + 45 * configurations));
    }

    private static Plot Panel(string figure, List<(IReadOnlyList<KeyValuePair<string, string>> Configuration, double Mean, double StandardDeviation, int Runs)> rows)
    {
        var scale = ResultsTable.IsPercentage(figure) ? 100 : 1;
        var plot = PlotPanels.Panel(figure, scale == 100 ? $"{figure} (%)" : figure, "configuration");
        plot.ShowLegend(Edge.Bottom); // below the axes: bars fill the data area
        // Listed top to bottom in table order: the first row gets the highest position.
        var bars = rows.Select((row, i) => new Bar
        {
            Position = rows.Count - 1 - i,
            Value = row.Mean * scale,
            Error = row.StandardDeviation * scale,
            FillColor = Colors.SteelBlue,
        }).ToList();
        var plotted = plot.Add.Bars(bars);
        plotted.Horizontal = true;
        plotted.LegendText = $"mean ± sample std over runs ({string.Join("/", rows.Select(r => r.Runs).Distinct())} per configuration)";
        plot.Axes.Left.SetTicks([.. bars.Select(b => b.Position)], Labels(rows.Select(r => r.Configuration).ToList()));
        plot.Axes.Margins(left: 0);
        return plot;
    }

    /// <summary>
    /// Bar labels: only the values that tell configurations apart, each as lastPathSegment=value
    /// (imagesPerClass=10); the experiment name alone where nothing else differs.
    /// </summary>
    private static string[] Labels(List<IReadOnlyList<KeyValuePair<string, string>>> configurations)
    {
        var varying = configurations[0].Select(c => c.Key)
            .Where(key => configurations.Select(c => c.First(v => v.Key == key).Value).Distinct().Count() > 1).ToList();
        return [.. configurations.Select(c => varying.Count == 0
            ? string.Join(", ", c.Take(1).Select(v => v.Value))
            : string.Join(", ", varying.Select(key => key == "experiment" ? c.First(v => v.Key == key).Value : $"{key.Split('.').Last()}={c.First(v => v.Key == key).Value}")))];
    }
}
