using Distillery.Tests.Service;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>A run folder damaged between two runs: the next `run` says what it found and what it does, and ends well.</summary>
public sealed class DamagedRunFolderTests
{
    [Fact]
    public void A_finished_run_with_a_garbage_metrics_file_is_evaluated_again_and_collect_skips_it_meanwhile()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, QueueFixture.Quick(0));
        var folder = scratch.Combine("runs", "quick");
        var first = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder, "--threads", "1");
        first.ExitCode.Should().Be(0, first.ToString());
        var accuracy = RunFixtures.KrrAccuracy(folder);
        File.ReadAllText(Path.Combine(folder, "run.log")).Should().Contain($"Threads: 1 of {Environment.ProcessorCount} cores (--threads)");
        var metrics = Path.Combine(folder, "metrics.json");
        File.WriteAllText(metrics, "{ \"evaluations\": { \"krr\": ");

        var collect = DistilleryProcess.Run(scratch.Path, "collect", scratch.Combine("runs"));
        var again = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder);

        collect.ExitCode.Should().Be(0, collect.ToString());
        collect.Error.Should().Contain($"warning: skipped: {metrics}: damaged: not a JSON object");
        again.ExitCode.Should().Be(0, again.ToString());
        File.ReadAllText(Path.Combine(folder, "run.log")).Should().Contain($"{metrics}: damaged: not a JSON object; running again to rewrite it: no checkpoint was found");
        RunFixtures.KrrAccuracy(folder).Should().Be(accuracy, "the same experiment, evaluated again");
    }

    [Fact]
    public void A_deleted_checkpoint_folder_is_reported_and_the_run_starts_from_step_0_to_the_same_result()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 6));
        var folder = scratch.Combine("run");
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder).ExitCode.Should().Be(0);
        var figures = RunFixtures.Metrics(folder)["evaluations"]!.ToJsonString();
        File.Delete(Path.Combine(folder, "metrics.json"));
        Directory.Delete(Path.Combine(folder, "checkpoints"), recursive: true);
        File.Delete(Path.Combine(folder, "run.log"));

        var again = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder);

        again.ExitCode.Should().Be(0, again.ToString());
        var log = File.ReadAllText(Path.Combine(folder, "run.log"));
        log.Should().Contain($"holds this experiment: no checkpoint was found in {Path.Combine(folder, "checkpoints")}; starting from step 0");
        log.Should().NotContain("resuming");
        RunFixtures.Metrics(folder)["evaluations"]!.ToJsonString().Should().Be(figures);
    }
}
