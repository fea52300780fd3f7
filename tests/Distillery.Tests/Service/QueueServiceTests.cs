using System.Text.Json.Nodes;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Service;

/// <summary>`distillery serve` as an operator would use it: a queue folder, good and bad manifests, stops and kills.</summary>
public sealed class QueueServiceTests
{
    /// <summary>Twenty kinds of mistake, each with what its reason file must say.</summary>
    private static IEnumerable<(string Id, string Text, string Reason)> BadManifests()
    {
        JsonObject With(Action<JsonObject> change) { var m = QueueFixture.Quick(0); change(m); return m; }
        yield return ("not-json", "{ this is not json", "invalid JSON at line 1");
        yield return ("not-an-object", "[1, 2, 3]", "must be an object at the top level");
        yield return ("unknown-field", With(m => m["stepz"] = 3).ToJsonString(), "stepz: unknown field; allowed:");
        yield return ("no-name", With(m => m.Remove("name")).ToJsonString(), "name: required");
        yield return ("no-dataset", With(m => m.Remove("dataset")).ToJsonString(), "dataset: required");
        yield return ("unknown-dataset", With(m => m["dataset"]!["name"] = "imagenet").ToJsonString(), "dataset.name: unknown dataset 'imagenet'; known datasets:");
        yield return ("unknown-algorithm", With(m => m["algorithm"]!["name"] = "kipp").ToJsonString(), "algorithm.name: unknown algorithm 'kipp'");
        yield return ("unknown-kernel", With(m => m["kernel"]!["name"] = "rbf").ToJsonString(), "kernel.name: unknown kernel 'rbf'");
        yield return ("unknown-option", With(m => m["algorithm"]!["options"]!["imagesPerKlass"] = 2).ToJsonString(), "algorithm.options.imagesPerKlass: unknown option");
        yield return ("wrong-type", With(m => m["algorithm"]!["options"]!["imagesPerClass"] = "two").ToJsonString(), "algorithm.options.imagesPerClass: expected an integer, got \"two\"");
        yield return ("out-of-range", With(m => m["algorithm"]!["options"]!["imagesPerClass"] = 0).ToJsonString(), "algorithm.options.imagesPerClass: must be ≥ 1, got 0");
        yield return ("negative-learning-rate", With(m => m["algorithm"] = new JsonObject { ["name"] = "kip", ["options"] = new JsonObject { ["learningRate"] = -1 } }).ToJsonString(), "algorithm.options.learningRate: must be > 0, got -1");
        yield return ("bad-dtype", With(m => m["dtype"] = "float16").ToJsonString(), "dtype: must be one of float32, float64");
        yield return ("bad-device", With(m => m["device"] = "gpu0").ToJsonString(), "device: must be cpu, cuda or cuda:N");
        yield return ("no-cuda", With(m => m["device"] = "cuda").ToJsonString(), "CUDA is not available");
        yield return ("too-many-per-class", With(m => m["algorithm"]!["options"]!["imagesPerClass"] = 600).ToJsonString(), "has 500 images");
        yield return ("missing-data-folder", With(m => m["dataset"] = new JsonObject { ["name"] = "mnist", ["options"] = new JsonObject { ["path"] = "/no/such/mnist" } }).ToJsonString(), "/no/such/mnist");
        yield return ("kip-without-kernel", With(m => { m.Remove("kernel"); m.Remove("evaluation"); m["algorithm"] = new JsonObject { ["name"] = "kip" }; }).ToJsonString(), "needs a kernel");
        yield return ("options-not-object", With(m => m["algorithm"]!["options"] = new JsonArray(1)).ToJsonString(), "algorithm.options: expected an object");
        yield return ("bad-sweep-path", With(m => m["sweep"] = new JsonObject { ["algoritm.options.imagesPerClass"] = new JsonArray(1, 2) }).ToJsonString(), "algoritm: unknown field");
        // Not a manifest mistake: the plugin itself throws mid-run (its loss diverges), and only that item fails.
        yield return ("plugin-throws", With(m => m["algorithm"] = new JsonObject { ["name"] = "kip", ["options"] = new JsonObject
            { ["imagesPerClass"] = 1, ["steps"] = 5, ["learningRate"] = 1e30, ["targetBatchSize"] = 100, ["evaluationInterval"] = 0 } }).ToJsonString(),
            "the run failed (exit 3):\nerror: KIP step 2: the kernel matrix K_ss (10×10, Float32) became non-finite");
    }

    [Fact]
    public void Twenty_bad_manifests_and_a_throwing_plugin_fail_with_their_reasons_while_good_ones_flow()
    {
        using var queue = new QueueFixture();
        var bad = BadManifests().ToList();
        bad.Should().HaveCount(21);
        for (var i = 0; i < bad.Count; i++)
        {
            queue.EnqueueText(bad[i].Id, bad[i].Text);
            if (i % 5 == 0) queue.Enqueue($"good-{i / 5}", QueueFixture.Quick(i));
        }

        using var service = queue.Serve();
        QueueFixture.WaitUntil(() => queue.Ids("done").Count() + queue.Ids("failed").Count() == 26, "all 26 items to finish", service);
        var status = DistilleryProcess.Run(queue.Work, "status", "--queue", queue.Root);
        service.Signal("TERM");
        service.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(0);

        queue.Ids("done").Should().BeEquivalentTo(Enumerable.Range(0, 5).Select(i => $"good-{i}"));
        queue.Ids("failed").Should().BeEquivalentTo(bad.Select(b => b.Id));
        foreach (var (id, _, reason) in bad)
        {
            var reasons = File.ReadAllText(Path.Combine(queue.Folder("failed"), id + ".reason.txt"));
            reasons.Should().Contain(reason, id);
            // Only a failed run (exit 3) is retried, twice by default; input errors are filed after one attempt.
            reasons.Split('\n').Count(l => l.StartsWith("attempt ")).Should().Be(id == "plugin-throws" ? 3 : 1, id);
        }
        foreach (var id in queue.Ids("done"))
            RunFixtures.KrrAccuracy(queue.RunFolder(id)).Should().BeGreaterThan(0.3);
        Directory.EnumerateFiles(queue.Inbox).Should().BeEmpty();
        Directory.EnumerateFiles(queue.Folder("running")).Should().BeEmpty();

        status.ExitCode.Should().Be(0);
        status.Output.Should().Contain("5 done").And.Contain("21 failed").And.Contain("good-0");
    }

    [Fact]
    public void Sigterm_stops_with_a_checkpoint_and_a_restart_resumes_to_the_uninterrupted_result()
    {
        using var queue = new QueueFixture();
        var manifest = QueueFixture.Long();
        queue.Enqueue("long", manifest);

        using (var service = queue.Serve())
        {
            QueueFixture.WaitUntil(() => QueueFixture.ProgressSteps(queue.RunFolder("long")) >= 50, "the run to pass step 50", service);
            service.Signal("TERM");
            var stopped = service.WaitForResult(TimeSpan.FromMinutes(2));
            stopped.ExitCode.Should().Be(0, stopped.ToString());
        }
        queue.Ids("running").Should().Equal("long");
        File.Exists(Path.Combine(queue.RunFolder("long"), "metrics.json")).Should().BeFalse();

        using (var service = queue.Serve())
        {
            QueueFixture.WaitUntil(() => queue.Ids("done").Contains("long"), "the resumed run to finish", service);
            service.Signal("TERM");
            service.WaitForResult(TimeSpan.FromMinutes(2));
        }
        File.ReadAllText(Path.Combine(queue.RunFolder("long"), "run.log")).Should().Contain("resuming at step");
        ShouldMatchAnUninterruptedRun(queue, manifest, "long");
    }

    [Fact]
    public void Kill_9_of_the_service_mid_run_then_a_restart_ends_with_identical_metrics()
    {
        using var queue = new QueueFixture();
        var manifest = QueueFixture.Long();
        queue.Enqueue("killed", manifest);

        foreach (var killAfter in new[] { 30, 100 })
        {
            using var service = queue.Serve();
            QueueFixture.WaitUntil(() => QueueFixture.ProgressSteps(queue.RunFolder("killed")) >= killAfter, $"step {killAfter}", service);
            service.Signal("KILL");
            service.WaitForResult(TimeSpan.FromMinutes(1));
        }
        using (var service = queue.Serve())
        {
            QueueFixture.WaitUntil(() => queue.Ids("done").Contains("killed"), "the resumed run to finish", service);
            service.Signal("TERM");
            service.WaitForResult(TimeSpan.FromMinutes(2));
        }
        ShouldMatchAnUninterruptedRun(queue, manifest, "killed");
    }

    private static void ShouldMatchAnUninterruptedRun(QueueFixture queue, JsonObject manifest, string id)
    {
        var reference = Path.Combine(queue.Work, "reference");
        var manifestPath = RunFixtures.Write(queue.Work, manifest, "reference.json");
        // The service's runs use cores / concurrency threads, and parallel sums round differently with another count.
        DistilleryProcess.Run(queue.Work, "run", manifestPath, "--output", reference, "--threads", QueueFixture.ThreadsPerRun(2).ToString())
            .ExitCode.Should().Be(0);
        RunFixtures.Metrics(queue.RunFolder(id))["evaluations"]!.ToJsonString()
            .Should().Be(RunFixtures.Metrics(reference)["evaluations"]!.ToJsonString());
    }
}
