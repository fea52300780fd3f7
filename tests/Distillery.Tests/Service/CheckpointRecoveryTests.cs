using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Service;

/// <summary>A corrupted latest checkpoint is detected, and the run resumes from the one before to the same result.</summary>
public sealed class CheckpointRecoveryTests
{
    [Fact]
    public void A_corrupted_latest_checkpoint_is_skipped_and_the_run_resumes_from_the_previous_one()
    {
        using var scratch = new ScratchFolder();
        var manifestJson = QueueFixture.Long();
        var manifest = RunFixtures.Write(scratch.Path, manifestJson);
        var folder = scratch.Combine("run");

        using (var running = DistilleryProcess.Start(scratch.Path, "run", manifest, "--output", folder))
        {
            QueueFixture.WaitUntil(() => QueueFixture.ProgressSteps(folder) >= 50, "step 50", running);
            running.Signal("INT");
            running.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(130);
        }
        var checkpoints = Directory.EnumerateFiles(Path.Combine(folder, "checkpoints")).Order().ToList();
        checkpoints.Should().HaveCount(2);
        var latest = checkpoints[^1];
        var bytes = File.ReadAllBytes(latest);
        for (var i = bytes.Length - 64; i < bytes.Length; i++) bytes[i] ^= 0x5A; // flip bytes in the tensor data
        File.WriteAllBytes(latest, bytes);
        var previousStep = int.Parse(Path.GetFileNameWithoutExtension(checkpoints[0])["step-".Length..]);

        var resumed = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder);

        resumed.ExitCode.Should().Be(0, resumed.ToString());
        var log = File.ReadAllText(Path.Combine(folder, "run.log"));
        log.Should().Contain("is damaged").And.Contain("checksum mismatch").And.Contain($"resuming at step {previousStep}");
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", scratch.Combine("reference")).ExitCode.Should().Be(0);
        RunFixtures.Metrics(folder)["evaluations"]!.ToJsonString()
            .Should().Be(RunFixtures.Metrics(scratch.Combine("reference"))["evaluations"]!.ToJsonString());
    }
}
