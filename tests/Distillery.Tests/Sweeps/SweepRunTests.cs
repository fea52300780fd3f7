using System.Text.Json.Nodes;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Sweeps;

/// <summary>Sweeps run end to end, and the same points fanned out as separate task processes (as Slurm or Kubernetes would).</summary>
public sealed class SweepRunTests
{
    private static JsonObject SweepManifest()
    {
        var manifest = new JsonObject
        {
            ["name"] = "sweep",
            ["dataset"] = new JsonObject { ["name"] = "fashion-mnist-sample" },
            ["preprocess"] = new JsonArray(new JsonObject { ["name"] = "standardize" }),
            ["kernel"] = new JsonObject { ["name"] = "fc" },
            ["algorithm"] = new JsonObject { ["name"] = "natural" },
            ["evaluation"] = new JsonArray(new JsonObject { ["name"] = "krr" }),
            ["sweep"] = new JsonObject { ["algorithm.options.imagesPerClass"] = new JsonArray(1, 5), ["seed"] = new JsonArray(0, 1) },
        };
        return manifest;
    }

    [Fact]
    public void A_sweep_runs_every_point_writes_the_table_and_skips_finished_points_when_rerun()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, SweepManifest());
        var output = scratch.Combine("sweep");

        var first = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", output);

        first.ExitCode.Should().Be(0, first.ToString());
        Directory.EnumerateDirectories(output).Select(Path.GetFileName).Should().BeEquivalentTo(
            "imagesPerClass-1_seed-0", "imagesPerClass-1_seed-1", "imagesPerClass-5_seed-0", "imagesPerClass-5_seed-1");
        var table = File.ReadAllText(Path.Combine(output, "results.md"));
        table.Should().Contain("| sweep | 1 | 2 |").And.Contain("| sweep | 5 | 2 |").And.Contain(" ± ");
        File.ReadAllLines(Path.Combine(output, "results.csv")).Should().HaveCount(3);

        var again = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", output);
        again.ExitCode.Should().Be(0);
        File.ReadAllText(Path.Combine(output, "imagesPerClass-5_seed-1", "run.log")).Should().Contain("already finished");
        File.ReadAllText(Path.Combine(output, "results.md")).Should().Be(table);
    }

    [Fact]
    public void A_sweep_with_an_unknown_path_is_refused_before_anything_runs()
    {
        using var scratch = new ScratchFolder();
        var manifestJson = SweepManifest();
        manifestJson["sweep"]!["algorithm.options.imagesPerKlass"] = new JsonArray(1);
        var manifest = RunFixtures.Write(scratch.Path, manifestJson);

        var result = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", scratch.Combine("sweep"));

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("sweep point imagesPerClass-1_seed-0_imagesPerKlass-1: algorithm.options.imagesPerKlass: unknown option");
        Directory.Exists(scratch.Combine("sweep")).Should().BeFalse("nothing runs, so no run folder is made");
    }

    [Fact]
    public void Task_indices_run_as_separate_processes_and_collect_builds_the_same_table()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, SweepManifest());
        var results = scratch.Combine("results");

        var listed = DistilleryProcess.Run(scratch.Path, "points", manifest);
        listed.ExitCode.Should().Be(0);
        listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().HaveCount(4);

        // Tasks 0 and 1 as a Slurm array would start them, 2 and 3 as a Kubernetes Indexed Job, two at a time.
        var environments = new[] { "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "JOB_COMPLETION_INDEX" };
        foreach (var pair in Enumerable.Range(0, 4).Chunk(2))
        {
            var tasks = pair.Select(i => DistilleryProcess.StartWithEnvironment(scratch.Path,
                new Dictionary<string, string> { [environments[i]] = i.ToString() }, "task", manifest, "--results", results)).ToList();
            foreach (var task in tasks)
            {
                task.WaitForResult(TimeSpan.FromMinutes(5)).ExitCode.Should().Be(0);
                task.Dispose();
            }
        }
        DistilleryProcess.Run(scratch.Path, "task", manifest, "--results", results, "--index", "4").ExitCode.Should().Be(2);

        var chosen = DistilleryProcess.Run(scratch.Path, "collect", results, "--figures", "krr.testAccuracy", "krr.testLoss");
        chosen.ExitCode.Should().Be(0, chosen.ToString());
        chosen.Output.Should().Contain("| runs | krr.testAccuracy | krr.testLoss | wall s (mean) |");
        DistilleryProcess.Run(scratch.Path, "collect", results, "--figures", "krr.accuracy").Error.Should().Contain("no run reports 'krr.accuracy'");
        var collected = DistilleryProcess.Run(scratch.Path, "collect", results);
        collected.ExitCode.Should().Be(0);
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", scratch.Combine("local")).ExitCode.Should().Be(0);
        var local = File.ReadAllLines(Path.Combine(scratch.Combine("local"), "results.csv"));
        var fannedOut = File.ReadAllLines(Path.Combine(results, "results.csv"));
        // Same configurations, runs and figures; only wall time and memory differ between processes.
        string Figures(string line) => string.Join(",", line.Split(',')[..6]);
        fannedOut.Select(Figures).Should().Equal(local.Select(Figures));
    }
}
