using System.Diagnostics;
using System.Text.Json.Nodes;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Service;

/// <summary>
/// Several services on one queue folder, retries and filing, end to end: item ownership, one log per writer, runs
/// retried from their checkpoint, items that cannot be filed, and the two-services kill -9 check.
/// </summary>
public sealed class SharedQueueTests
{
    [Fact]
    public void A_second_service_leaves_a_live_services_item_alone_and_each_service_writes_its_own_log()
    {
        using var queue = new QueueFixture();
        queue.Enqueue("long", QueueFixture.Long(100));
        using var first = queue.Serve(concurrency: 1);
        QueueFixture.WaitUntil(() => QueueFixture.ProgressSteps(queue.RunFolder("long")) >= 10, "the run to pass step 10", first);

        using var second = queue.Serve(concurrency: 1);
        queue.Enqueue("quick", QueueFixture.Quick(1));
        QueueFixture.WaitUntil(() => queue.Ids("done").Count() == 2, "both items to finish", second);
        var status = DistilleryProcess.Run(queue.Work, "status", "--queue", queue.Root);
        first.Signal("TERM");
        second.Signal("TERM");
        first.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(0);
        second.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(0);

        var logs = Directory.GetFiles(Path.Combine(queue.Root, "logs"), "service-*.log").Select(File.ReadAllText).ToList();
        logs.Should().HaveCount(2, "one log per service process");
        logs.Should().ContainSingle(log => log.Contains("Done long")).Which.Should().Contain("Claimed long");
        logs.Should().NotContain(log => log.Contains("Took over"));
        File.ReadAllText(Path.Combine(queue.RunFolder("long"), "run.log")).Split('\n').Count(l => l.Contains("Experiment "))
            .Should().Be(1, "one process ran the item, once");
        Directory.EnumerateFiles(queue.Folder("running")).Should().BeEmpty("no owner file is left behind");
        status.Output.Should().Contain("attempts");
    }

    [Fact]
    public void A_run_that_fails_with_exit_3_is_retried_from_its_checkpoint_while_invalid_input_is_filed_at_once()
    {
        using var queue = new QueueFixture();
        var plugins = Path.Combine(queue.Work, "plugins");
        TestPlugins.Build("FlakyPlugin", Path.Combine(plugins, "FlakyPlugin"));
        var flaky = Distillation();
        flaky["evaluation"]!.AsArray().Add(new JsonObject
        {
            ["name"] = "fails-once",
            ["options"] = new JsonObject { ["marker"] = Path.Combine(queue.Work, "fails-once.marker") },
        });
        queue.Enqueue("flaky", flaky);
        var invalid = QueueFixture.Quick(0);
        invalid["algorithm"]!["options"]!["imagesPerClass"] = 0;
        queue.Enqueue("invalid", invalid);

        using (var service = queue.Serve(1, "--plugins", plugins, "--retries", "1"))
        {
            QueueFixture.WaitUntil(() => queue.Ids("done").Contains("flaky") && queue.Ids("failed").Contains("invalid"), "both items to be filed", service);
            var status = DistilleryProcess.Run(queue.Work, "status", "--queue", queue.Root);
            status.Output.Split('\n').Should().Contain(l => l.Contains("flaky") && l.Contains(" done ") && l.Contains(" 2 "), "the flaky item took 2 attempts");
            service.Signal("TERM");
            service.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(0);
        }

        var flakyReasons = File.ReadAllLines(Path.Combine(queue.Folder("done"), "flaky.reason.txt"));
        flakyReasons.Where(l => l.StartsWith("attempt ")).Should().ContainSingle().Which.Should().EndWith("the run failed (exit 3):");
        flakyReasons.Should().Contain(l => l.Contains("IOException: fails-once: a transient fault on the first attempt"));
        File.ReadAllText(Path.Combine(queue.RunFolder("flaky"), "run.log")).Should().Contain("resuming at step 30", "the retry resumed from the final checkpoint");

        var invalidReasons = File.ReadAllLines(queue.ReasonFileOf("invalid"));
        invalidReasons.Where(l => l.StartsWith("attempt ")).Should().ContainSingle("input errors are not retried")
            .Which.Should().EndWith("invalid input (exit 2):");
        invalidReasons.Should().Contain(l => l.Contains("algorithm.options.imagesPerClass: must be ≥ 1, got 0"));

        // The retried run's figures are those of a run that never failed.
        var reference = Path.Combine(queue.Work, "reference");
        DistilleryProcess.Run(queue.Work, "run", RunFixtures.Write(queue.Work, Distillation(), "reference.json"), "--output", reference)
            .ExitCode.Should().Be(0);
        RunFixtures.Metrics(queue.RunFolder("flaky"))["evaluations"]!["krr"]!.ToJsonString()
            .Should().Be(RunFixtures.Metrics(reference)["evaluations"]!["krr"]!.ToJsonString());
        RunFixtures.Metrics(queue.RunFolder("flaky"))["evaluations"]!["fails-once"]!["supportCount"]!.GetValue<double>().Should().Be(20);
    }

    [Fact]
    public void An_item_that_cannot_be_filed_stays_visible_in_the_log_and_status_and_is_filed_once_the_folder_is_fixed()
    {
        using var queue = new QueueFixture();
        using var service = queue.Serve(1);
        var log = Path.Combine(queue.Root, "logs");
        bool Logged(string text) => Directory.Exists(log) && Directory.GetFiles(log).Any(f => ReadShared(f).Contains(text));
        QueueFixture.WaitUntil(() => Logged("Serving queue"), "the service to start", service);
        Directory.Delete(queue.Folder("failed"));
        File.WriteAllText(queue.Folder("failed"), "failed/ is a file now: nothing can be moved into it");
        queue.EnqueueText("broken", "{ not json");

        QueueFixture.WaitUntil(() => Logged("Cannot file broken into failed/"), "the filing error in the service log", service);
        var status = DistilleryProcess.Run(queue.Work, "status", "--queue", queue.Root);
        status.Output.Split('\n').Should().Contain(l => l.Contains("broken") && l.Contains("running") && l.Contains("to be filed into failed/: cannot move it into failed/"));

        File.Delete(queue.Folder("failed"));
        Directory.CreateDirectory(queue.Folder("failed"));
        QueueFixture.WaitUntil(() => queue.Ids("failed").Contains("broken"), "the item to be filed", service, TimeSpan.FromMinutes(2));
        File.ReadAllText(queue.ReasonFileOf("broken")).Should().Contain("invalid JSON");
        Directory.EnumerateFiles(queue.Folder("running")).Should().BeEmpty();
        service.Signal("TERM");
        service.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(0);
    }

    [Fact]
    public async Task Two_services_killed_at_random_lose_nothing_run_nothing_twice_and_match_uninterrupted_runs()
    {
        // The check of benchmarks/service/two-services.sh, shortened: 6 items, 2 kill -9s.
        var start = new ProcessStartInfo("bash", [Path.Combine(DistilleryProcess.RepositoryRoot, "benchmarks", "service", "two-services.sh"), "6", "2"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["DISTILLERY_DLL"] = DistilleryProcess.Executable },
        };
        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        var error = script.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try { await script.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { script.Kill(entireProcessTree: true); throw; }
        var report = await output + await error;
        script.ExitCode.Should().Be(0, report);
        report.Should().Contain("lost: 0, run twice: 0, misfiled: 0").And.Contain("metrics equal to an uninterrupted run: 6 of 6").And.EndWith("OK\n");
    }

    /// <summary>A short KIP run (30 steps, checkpoints every 10, no periodic evaluation) with KRR as its evaluator.</summary>
    private static JsonObject Distillation()
    {
        var manifest = RunFixtures.SmallKipManifest(30);
        manifest["algorithm"]!["options"]!["evaluationInterval"] = 0;
        manifest["algorithm"]!["options"]!["checkpointInterval"] = 10;
        return manifest;
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(stream).ReadToEnd();
    }
}
