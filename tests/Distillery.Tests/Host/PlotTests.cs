using System.Text.Json.Nodes;
using Distillery.Engine.Outputs;
using Distillery.Engine.Runs;
using Distillery.Engine.Sweeps;
using FluentAssertions;
using StbImageSharp;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>progress.png and results.png: which panels they draw, from progress lines and results tables as runs write them.</summary>
public sealed class PlotTests
{
    [Fact]
    public void Progress_plot_has_a_loss_panel_an_accuracy_panel_and_one_per_changing_figure()
    {
        using var folder = new HostTempFolder();
        string[] lines =
        [
            """{"phase":"kip","event":"start","totalSteps":3,"firstStep":0,"elapsedSeconds":0.1}""",
            """{"phase":"kip","step":0,"elapsedSeconds":0.2,"metrics":{"krr.testAccuracy":0.71,"krr.testLoss":0.024,"krr.testCount":1000}}""",
            """{"phase":"kip","step":1,"elapsedSeconds":0.3,"loss":0.0228}""",
            """{"phase":"kip","step":2,"elapsedSeconds":0.4,"loss":0.0190,"metrics":{"krr.testAccuracy":0.80,"krr.testLoss":0.018,"krr.testCount":1000}}""",
            """{"phase":"kip","step":2,"elapsedSeconds":9.4,"loss":0.0190,"metrics":{"krr.testAccuracy":0.80,"krr.testLoss":0.018,"krr.testCount":1000}}""",
            """{"phase":"kip","step":3,"elapsedSeconds":0.5,"loss":0.0170}""",
            """{"phase":"kip","step":4,"elaps""", // a torn last line
        ];

        var written = ProgressPlot.Write(folder.File("progress.png"), Journal(folder, lines).Records,
            ("kip", 3, new Dictionary<string, double> { ["krr.testAccuracy"] = 0.83, ["krr.testLoss"] = 0.017, ["krr.testCount"] = 1000 }));

        written.Should().BeTrue();
        var image = ImageResult.FromMemory(File.ReadAllBytes(folder.File("progress.png")), ColorComponents.RedGreenBlue);
        (image.Width, image.Height).Should().Be((PlotPanels.Width, 3 * PlotPanels.PanelHeight), "loss, accuracy and krr.testLoss; testCount never changes");
    }

    /// <summary>The lines written as progress.jsonl and read back as a run's progress.png reads them.</summary>
    private static ProgressJournal Journal(HostTempFolder folder, string[] lines)
    {
        File.WriteAllText(folder.File("progress.jsonl"), string.Join("\n", lines));
        return ProgressRecord.ReadFile(folder.File("progress.jsonl"));
    }

    [Fact]
    public void Progress_without_losses_or_figures_draws_nothing()
    {
        using var folder = new HostTempFolder();

        ProgressPlot.Write(folder.File("progress.png"), Journal(folder, ["""{"phase":"label-solve","step":1,"elapsedSeconds":0.2}"""]).Records)
            .Should().BeFalse();

        File.Exists(folder.File("progress.png")).Should().BeFalse();
    }

    [Fact]
    public void Results_chart_has_a_panel_per_figure_that_varies()
    {
        using var folder = new HostTempFolder();
        PointResult Run(string images, int seed, double accuracy) => new($"imagesPerClass-{images}_seed-{seed}",
            [KeyValuePair.Create("experiment", "kip"), KeyValuePair.Create("algorithm.options.imagesPerClass", images)],
            Distillery.Tests.Sweeps.ResultsTableTests.Metrics(new() { ["testAccuracy"] = accuracy, ["testCount"] = 1000 }, peakMemoryBytes: 1));
        var table = new ResultsTable([Run("1", 0, 0.70), Run("1", 1, 0.68), Run("10", 0, 0.85), Run("10", 1, 0.86)]);

        table.Summary("krr.testAccuracy").Select(r => (r.Mean, r.Runs)).Should().BeEquivalentTo(new[] { (0.69, 2), (0.855, 2) },
            o => o.Using<double>(c => c.Subject.Should().BeApproximately(c.Expectation, 1e-12)).WhenTypeIs<double>());
        table.Summary("krr.testAccuracy").First().StandardDeviation.Should().BeApproximately(Math.Sqrt(0.0002), 1e-12);
        table.Write(folder.Path);

        var image = ImageResult.FromMemory(File.ReadAllBytes(folder.File("results.png")), ColorComponents.RedGreenBlue);
        (image.Width, image.Height).Should().Be((PlotPanels.Width, PlotPanels.PanelHeight), "one panel: testCount is 1000 in every run");
    }
}
