using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Runs;
using Distillery.Engine.Sweeps;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Sweeps;

public sealed class SweepExpanderTests
{
    [Fact]
    public void A_sweep_expands_to_every_combination_with_the_last_path_varying_fastest()
    {
        var manifest = JsonNode.Parse("""
            { "name": "s", "seed": 0, "algorithm": { "name": "kip", "options": { "steps": 5 } },
              "sweep": { "algorithm.options.imagesPerClass": [1, 10], "seed": [0, 1, 2] } }
            """)!.AsObject();

        var points = SweepExpander.Expand(manifest);

        points.Select(p => p.Name).Should().Equal(
            "imagesPerClass-1_seed-0", "imagesPerClass-1_seed-1", "imagesPerClass-1_seed-2",
            "imagesPerClass-10_seed-0", "imagesPerClass-10_seed-1", "imagesPerClass-10_seed-2");
        points[4].Manifest["algorithm"]!["options"]!["imagesPerClass"]!.GetValue<int>().Should().Be(10);
        points[4].Manifest["algorithm"]!["options"]!["steps"]!.GetValue<int>().Should().Be(5);
        points[4].Manifest["seed"]!.GetValue<int>().Should().Be(1);
        points[4].Manifest.ContainsKey("sweep").Should().BeFalse();
        points[4].Configuration.Select(c => c.Key).Should().Equal("algorithm.options.imagesPerClass");
        manifest["seed"]!.GetValue<int>().Should().Be(0, "the original manifest is left as it was");
    }

    [Fact]
    public void A_list_of_grids_runs_the_union_of_their_points_in_order()
    {
        var manifest = JsonNode.Parse("""
            { "name": "s", "seed": 0, "algorithm": { "name": "kip", "options": { "steps": 5 } },
              "sweep": [ { "algorithm.options.imagesPerClass": [1, 10], "seed": [0, 1] },
                         { "algorithm.options.imagesPerClass": [50], "seed": [0] } ] }
            """)!.AsObject();

        var points = SweepExpander.Expand(manifest);

        points.Select(p => p.Name).Should().Equal(
            "imagesPerClass-1_seed-0", "imagesPerClass-1_seed-1", "imagesPerClass-10_seed-0", "imagesPerClass-10_seed-1",
            "imagesPerClass-50_seed-0");
        points[4].Manifest["algorithm"]!["options"]!["imagesPerClass"]!.GetValue<int>().Should().Be(50);
        points[4].Manifest.ContainsKey("sweep").Should().BeFalse();
    }

    [Fact]
    public void The_point_limit_counts_every_grid_of_a_list()
    {
        var values = new JsonArray(Enumerable.Range(0, 100).Select(i => (JsonNode?)JsonValue.Create(i)).ToArray());
        var grid = new JsonObject { ["seed"] = values.DeepClone(), ["algorithm.options.steps"] = values.DeepClone() };
        var manifest = new JsonObject { ["name"] = "s", ["sweep"] = new JsonArray(grid, new JsonObject { ["algorithm.options.imagesPerClass"] = new JsonArray(1) }) };

        var act = () => SweepExpander.Expand(manifest);

        act.Should().Throw<DistilleryException>().WithMessage("sweep[1]: the grid has more than 10,000 points with the earlier grids*");
    }

    [Fact]
    public void Without_a_sweep_the_manifest_is_its_only_point()
    {
        var points = SweepExpander.Expand(new JsonObject { ["name"] = "plain" });
        points.Should().ContainSingle().Which.Name.Should().BeEmpty();
    }

    [Theory]
    [InlineData("""{ "sweep": [1, 2] }""", "sweep[0]: expected an object")]
    [InlineData("""{ "sweep": [] }""", "sweep: expected an object")]
    [InlineData("""{ "sweep": 3 }""", "sweep: expected an object")]
    [InlineData("""{ "sweep": [{ "seed": [0] }, { "seed": [] }] }""", "sweep[1].seed: expected a non-empty list")]
    [InlineData("""{ "sweep": [{ "seed": [0, 1] }, { "seed": [1] }] }""", "sweep[1]: point seed-1 is already in an earlier grid")]
    [InlineData("""{ "sweep": {} }""", "sweep: expected an object")]
    [InlineData("""{ "sweep": { "seed": 3 } }""", "sweep.seed: expected a non-empty list")]
    [InlineData("""{ "sweep": { "seed": [] } }""", "sweep.seed: expected a non-empty list")]
    [InlineData("""{ "sweep": { "sweep.seed": [1] } }""", "cannot vary itself")]
    public void A_malformed_sweep_is_a_clear_error(string json, string expected)
    {
        var act = () => SweepExpander.Expand(JsonNode.Parse(json)!.AsObject());
        act.Should().Throw<DistilleryException>().WithMessage($"*{expected}*");
    }
}

public sealed class ResultsTableTests
{
    private static PointResult Result(string ipc, int seed, double accuracy, double wall) => new(
        $"ipc-{ipc}_seed-{seed}",
        [KeyValuePair.Create("experiment", "e"), KeyValuePair.Create("algorithm.options.imagesPerClass", ipc)],
        Metrics(new() { ["testAccuracy"] = accuracy }, wall));

    /// <summary>A run's metrics.json with one krr evaluation.</summary>
    internal static RunMetrics Metrics(Dictionary<string, double> krr, double wallSeconds = 1, long peakMemoryBytes = 1048576) =>
        new(new Dictionary<string, IReadOnlyDictionary<string, double>> { ["krr"] = krr }, wallSeconds, peakMemoryBytes, SupportSize: 10);

    [Fact]
    public void Rows_are_configurations_with_mean_and_sample_std_over_seeds()
    {
        var table = new ResultsTable([Result("1", 0, 0.70, 1), Result("1", 1, 0.72, 3), Result("1", 2, 0.74, 5), Result("10", 0, 0.85, 10)]);

        table.RowCount.Should().Be(2);
        var markdown = table.ToMarkdown();
        markdown.Should().Contain("| e | 1 | 3 | 72.00 ± 2.00 | 3.0 | 1 |"); // std of 70, 72, 74 (n−1) is 2
        markdown.Should().Contain("| e | 10 | 1 | 85.00 | 10.0 | 1 |");
        var csv = table.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        csv[0].Should().Be("experiment,algorithm.options.imagesPerClass,runs,krr.testAccuracy.mean,krr.testAccuracy.std,wallSeconds.mean,peakMemoryBytes.max");
        csv[1].Should().StartWith("e,1,3,0.72");
        double.Parse(csv[1].Split(',')[4], System.Globalization.CultureInfo.InvariantCulture).Should().BeApproximately(0.02, 1e-12);
    }

    [Fact]
    public void Chosen_figures_appear_in_the_order_asked_and_an_unknown_one_names_those_reported()
    {
        PointResult Run(int seed, double accuracy, double loss) => new(
            $"seed-{seed}", [KeyValuePair.Create("experiment", "e")],
            Metrics(new() { ["testAccuracy"] = accuracy, ["testLoss"] = loss, ["testCount"] = 100 }));
        var runs = new[] { Run(0, 0.5, 0.25), Run(1, 0.7, 0.75) };

        var markdown = new ResultsTable(runs, ["krr.testLoss", "krr.testAccuracy"]).ToMarkdown();

        markdown.Should().StartWith("| experiment | runs | krr.testLoss | krr.testAccuracy | wall s (mean) | peak memory MB (max) |");
        markdown.Should().Contain("| e | 2 | 0.5 ± 0.3536 | 60.00 ± 14.14 |");
        markdown.Should().NotContain("testCount");
        var unknown = () => new ResultsTable(runs, ["transfer.testAccuracy"]);
        unknown.Should().Throw<Distillery.Abstractions.DistilleryException>()
            .WithMessage("--figures: no run reports 'transfer.testAccuracy'; the runs report: krr.testAccuracy, krr.testCount, krr.testLoss");
    }

    [Fact]
    public void Every_figure_derived_from_an_accuracy_is_in_percent_and_no_other_is()
    {
        PointResult Run(int seed, double accuracy) => new(
            $"seed-{seed}", [KeyValuePair.Create("experiment", "e")],
            Metrics(new() { ["testAccuracy"] = accuracy, ["testAccuracySeed0"] = accuracy, ["testAccuracyStd"] = 0.01, ["trainLoss"] = 0.5 }));

        var markdown = new ResultsTable([Run(0, 0.5), Run(1, 0.7)], ["krr.testAccuracySeed0", "krr.testAccuracyStd", "krr.trainLoss"]).ToMarkdown();

        markdown.Should().Contain("| e | 2 | 60.00 ± 14.14 | 1.00 ± 0.00 | 0.5 ± 0 |");
        ResultsTable.IsPercentage("validation.accuracy").Should().BeTrue();
        ResultsTable.IsPercentage("transfer.testCount").Should().BeFalse();
    }
}
