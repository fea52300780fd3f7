using System.Diagnostics;
using Distillery.Engine.Runs;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM stop a run after the current step with a checkpoint; running the same command
/// again resumes, and the result is identical to a run that was never interrupted.
/// </summary>
public sealed class CancellationTests
{
    [Fact]
    public void Interrupted_twice_then_resumed_ends_exactly_like_an_uninterrupted_run()
    {
        using var scratch = new ScratchFolder();
        var manifestJson = RunFixtures.SmallKipManifest(steps: 1500);
        manifestJson["algorithm"]!["options"]!["targetBatchSize"] = 1000;
        manifestJson["algorithm"]!["options"]!["evaluationInterval"] = 0;
        manifestJson["algorithm"]!["options"]!["checkpointInterval"] = 0; // only the checkpoint written on stopping
        var manifest = RunFixtures.Write(scratch.Path, manifestJson);
        var (interrupted, reference) = (scratch.Combine("interrupted"), scratch.Combine("reference"));

        var attempts = Stopwatch.StartNew(); // every attempt on the interrupted folder, and little else
        foreach (var signal in new[] { "INT", "TERM" })
        {
            using var running = DistilleryProcess.Start(scratch.Path, "run", manifest, "--output", interrupted);
            WaitForProgress(Path.Combine(interrupted, "progress.jsonl"), atLeastLines: 40 + File.ReadLines(ProgressPathOrEmpty(interrupted)).Count());
            running.Signal(signal);
            var stopped = running.WaitForResult(TimeSpan.FromMinutes(2));

            stopped.ExitCode.Should().Be(130, stopped.ToString());
            (stopped.Output + stopped.Error).Should().Contain("Cancelled");
            File.Exists(Path.Combine(interrupted, "metrics.json")).Should().BeFalse();
            Directory.EnumerateFiles(Path.Combine(interrupted, "checkpoints")).Should().NotBeEmpty();
        }

        var beforeLastAttempt = ProgressRecord.ReadFile(Path.Combine(interrupted, "progress.jsonl")).RecordedSeconds;
        var resumed = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", interrupted);
        attempts.Stop();
        resumed.ExitCode.Should().Be(0, resumed.ToString());
        resumed.Output.Should().Contain("resuming at step");

        // Wall time counts all three attempts: the journal's clock never goes back, and metrics.json adds the last attempt to the earlier ones.
        var elapsed = ProgressRecord.ReadFile(Path.Combine(interrupted, "progress.jsonl")).Records.Select(r => r.ElapsedSeconds).OfType<double>().ToList();
        elapsed.Should().BeInAscendingOrder("each attempt goes on from the time the one before it recorded");
        var wallSeconds = RunFixtures.Metrics(interrupted)["wallSeconds"]!.GetValue<double>();
        wallSeconds.Should().BeGreaterThan(beforeLastAttempt).And.BeGreaterThanOrEqualTo(elapsed[^1])
            .And.BeLessThanOrEqualTo(attempts.Elapsed.TotalSeconds, "no more than the three processes took");
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", reference).ExitCode.Should().Be(0);

        RunFixtures.Metrics(interrupted)["evaluations"]!.ToJsonString()
            .Should().Be(RunFixtures.Metrics(reference)["evaluations"]!.ToJsonString());
    }

    private static string ProgressPathOrEmpty(string runFolder)
    {
        var path = Path.Combine(runFolder, "progress.jsonl");
        if (!File.Exists(path)) { Directory.CreateDirectory(runFolder); File.WriteAllText(path, ""); }
        return path;
    }

    private static void WaitForProgress(string path, int atLeastLines)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path) && File.ReadLines(path).Count() >= atLeastLines) return;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"no progress in {path}");
    }
}
