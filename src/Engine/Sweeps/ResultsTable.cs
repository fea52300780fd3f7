using System.Globalization;
using System.Text;
using Distillery.Abstractions;
using Distillery.Engine.Runs;

namespace Distillery.Engine.Sweeps;

/// <summary>A finished point: its configuration values and its metrics.json.</summary>
/// <param name="Name">The run folder relative to the folder collected (e.g. imagesPerClass-10_seed-0).</param>
/// <param name="Configuration">The experiment name and the swept values other than the seed, in point.json's order.</param>
/// <param name="Metrics">The run's final figures.</param>
public sealed record PointResult(string Name, IReadOnlyList<KeyValuePair<string, string>> Configuration, RunMetrics Metrics);

/// <summary>
/// The results table of a sweep: one row per configuration (every swept value but the seed), each figure as
/// mean ± sample standard deviation over the seeds, with run time and peak memory. Markdown and CSV.
/// </summary>
public sealed class ResultsTable
{
    private readonly List<string> _keys;
    private readonly List<string> _figures;
    private readonly List<(IReadOnlyList<string> Configuration, List<RunMetrics> Runs)> _rows;

    /// <param name="figures">The figures to show, in this order (e.g. krr.testAccuracy); null or empty: every figure the runs report.</param>
    public ResultsTable(IEnumerable<PointResult> results, IReadOnlyList<string>? figures = null)
    {
        var list = results.ToList();
        _keys = list.SelectMany(r => r.Configuration.Select(c => c.Key)).Distinct().ToList();
        var available = list.SelectMany(r => r.Metrics.Figures().Select(f => f.Key)).Distinct().Order(StringComparer.Ordinal).ToList();
        if (figures is { Count: > 0 } && figures.FirstOrDefault(f => !available.Contains(f)) is { } unknown)
            throw new DistilleryException($"--figures: no run reports '{unknown}'; the runs report: {string.Join(", ", available)}");
        _figures = figures is { Count: > 0 } ? figures.ToList() : available;
        _rows = list
            .GroupBy(r => string.Join("\u0001", _keys.Select(k => ValueOf(r, k))))
            .Select(g => ((IReadOnlyList<string>)_keys.Select(k => ValueOf(g.First(), k)).ToList(), g.Select(r => r.Metrics).ToList()))
            .ToList();
    }

    public int RowCount => _rows.Count;

    /// <summary>The figures shown, in column order (e.g. krr.testAccuracy).</summary>
    public IReadOnlyList<string> FigureNames => _figures;

    /// <summary>
    /// Per configuration (its values, e.g. experiment=fmnist-kip, algorithm.options.imagesPerClass=10): the figure's mean and
    /// sample standard deviation over the runs that report it (0 for one run), and how many do. Configurations without it are left out.
    /// </summary>
    public IEnumerable<(IReadOnlyList<KeyValuePair<string, string>> Configuration, double Mean, double StandardDeviation, int Runs)> Summary(string figure)
    {
        foreach (var (configuration, runs) in _rows)
        {
            var values = Values(runs, figure);
            if (values.Count == 0) continue;
            yield return (_keys.Zip(configuration, KeyValuePair.Create).ToList(), Mean(values), StandardDeviation(values), values.Count);
        }
    }

    public string ToMarkdown()
    {
        var header = _keys.Concat(["runs"]).Concat(_figures).Concat(["wall s (mean)", "peak memory MB (max)"]).ToList();
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Concat(header.Select(_ => "---|")));
        foreach (var (configuration, runs) in _rows)
        {
            var cells = configuration.Concat([runs.Count.ToString(CultureInfo.InvariantCulture)])
                .Concat(_figures.Select(f => Format(Values(runs, f), f)))
                .Concat([Mean(runs.Select(WallSeconds)).ToString("F1", CultureInfo.InvariantCulture),
                         (runs.Max(PeakBytes) / 1048576.0).ToString("F0", CultureInfo.InvariantCulture)]);
            text.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        return text.ToString();
    }

    public string ToCsv()
    {
        var header = _keys.Concat(["runs"]).Concat(_figures.SelectMany(f => new[] { f + ".mean", f + ".std" }))
            .Concat(["wallSeconds.mean", "peakMemoryBytes.max"]);
        var text = new StringBuilder();
        text.AppendLine(string.Join(",", header.Select(Quote)));
        foreach (var (configuration, runs) in _rows)
        {
            var cells = configuration.Select(Quote).Concat([runs.Count.ToString(CultureInfo.InvariantCulture)])
                .Concat(_figures.SelectMany(f =>
                {
                    var values = Values(runs, f);
                    return new[] { Number(values.Count > 0 ? Mean(values) : double.NaN), Number(StandardDeviation(values)) };
                }))
                .Concat([Number(Mean(runs.Select(WallSeconds))), runs.Max(PeakBytes).ToString(CultureInfo.InvariantCulture)]);
            text.AppendLine(string.Join(",", cells));
        }
        return text.ToString();
    }

    /// <summary>Writes results.md, results.csv and the bar chart results.png into <paramref name="folder"/>.</summary>
    public void Write(string folder)
    {
        File.WriteAllText(Path.Combine(folder, "results.md"), ToMarkdown());
        File.WriteAllText(Path.Combine(folder, "results.csv"), ToCsv());
        ResultsChart.Write(Path.Combine(folder, "results.png"), this);
    }

    private static List<double> Values(IEnumerable<RunMetrics> runs, string figure) =>
        runs.SelectMany(r => r.Figures().Where(f => f.Key == figure).Select(f => f.Value)).ToList();

    private static string ValueOf(PointResult result, string key) =>
        result.Configuration.FirstOrDefault(c => c.Key == key).Value ?? "";

    /// <summary>
    /// True for figures shown as percentages: accuracies, which are fractions in metrics.json, and the figures derived from
    /// them (testAccuracy, testAccuracySeed0, testAccuracyStd, validationAccuracy…), so that one table never mixes the two scales.
    /// </summary>
    public static bool IsPercentage(string figure) =>
        figure[(figure.LastIndexOf('.') + 1)..] is var name && (name.StartsWith("accuracy", StringComparison.Ordinal) || name.Contains("Accuracy", StringComparison.Ordinal));

    /// <summary>Accuracies as percentages (87.12 ± 0.31); other figures with four significant digits.</summary>
    private static string Format(IReadOnlyList<double> values, string figure)
    {
        if (values.Count == 0) return "";
        var percent = IsPercentage(figure);
        string Show(double v) => percent ? (100 * v).ToString("F2", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);
        return values.Count == 1 ? Show(values[0]) : $"{Show(Mean(values))} ± {Show(StandardDeviation(values))}";
    }

    private static double Mean(IEnumerable<double> values) => values.DefaultIfEmpty(double.NaN).Average();

    private static double StandardDeviation(IReadOnlyList<double> values)
    {
        if (values.Count < 2) return 0;
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }

    private static double WallSeconds(RunMetrics metrics) => metrics.WallSeconds;
    private static long PeakBytes(RunMetrics metrics) => metrics.PeakMemoryBytes;
    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    private static string Quote(string text) => text.Contains(',') || text.Contains('"') ? $"\"{text.Replace("\"", "\"\"")}\"" : text;
}
