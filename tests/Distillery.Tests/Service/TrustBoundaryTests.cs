using System.Diagnostics;
using System.Text.Json.Nodes;
using Distillery.Service;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace Distillery.Tests.Service;

/// <summary>
/// What someone who can only write a queue's inbox/ can do to the service: each attack is refused or neutralised
/// with a readable reason, and the service keeps going with bounded memory.
/// </summary>
public sealed class TrustBoundaryTests(ITestOutputHelper output)
{
    private const string Secret = "TOP-SECRET-VALUE";
    private const string Payload = "<img src=x onerror=document.title='pwned'>";

    [Fact]
    public async Task Attacks_through_the_inbox_are_filed_with_reasons_that_leak_nothing_and_the_page_shows_them_as_text()
    {
        File.Exists(StatusPageTests.Chromium).Should().BeTrue("this test needs Debian's chromium (.ci/run installs it)");
        using var queue = new QueueFixture();
        var secret = Path.Combine(queue.Work, "secret.json");
        File.WriteAllText(secret, $"{{ \"name\": \"{Secret}\", \"password\": \"{Secret}\" ");
        JsonObject Quick(Action<JsonObject> change) { var m = QueueFixture.Quick(0); change(m); return m; }

        File.CreateSymbolicLink(Path.Combine(queue.Inbox, "link-to-secret.json"), secret);
        Process.Start("mkfifo", Path.Combine(queue.Inbox, "pipe.json"))!.WaitForExit();
        File.WriteAllText(Path.Combine(queue.Inbox, "two\nlines.json"), QueueFixture.Quick(0).ToJsonString());
        queue.Enqueue("with-plugins", Quick(m => m["plugins"] = new JsonArray("/tmp/any-plugins")));
        queue.EnqueueText("escape", Quick(m => m["name"] = "../../escaped").ToJsonString());
        queue.EnqueueText("sweep-dots", Quick(m => m["sweep"] = new JsonObject { [".."] = new JsonArray(1, 2) }).ToJsonString());
        queue.EnqueueText("big", Quick(m => m["description"] = new string('x', 2 << 20)).ToJsonString());
        File.WriteAllText(Path.Combine(queue.Work, "bomb.yaml"), FailurePathTests.BillionLaughs);
        File.Move(Path.Combine(queue.Work, "bomb.yaml"), Path.Combine(queue.Inbox, "bomb.yaml"));
        queue.Enqueue(Payload, Quick(m => m["algorithm"]!["name"] = Payload));
        queue.Enqueue("good", QueueFixture.Quick(1));
        string[] refused = ["link-to-secret", "pipe", "two\nlines", "with-plugins", "escape", "sweep-dots", "big", "bomb", Payload];
        var port = QueueFixture.FreePort();

        using var service = queue.Serve(2, "--status-port", port.ToString());
        QueueFixture.WaitUntil(() => refused.All(id => FiledAsFailed(queue, id)) && File.Exists(Path.Combine(queue.Folder("done"), "good.json")),
            "every item to be filed", service);

        string Reason(string id) => File.ReadAllText(Path.Combine(queue.Folder("failed"), id + ".reason.txt"));
        Reason("link-to-secret").Should().Contain("queue item \"link-to-secret.json\" is a symbolic link; the service runs only regular files");
        Reason("pipe").Should().Contain("queue item \"pipe.json\" is a named pipe (FIFO), not a regular file");
        Reason("two\nlines").Should().Contain("queue item \"two\\u000Alines.json\": its name contains a control character");
        Reason("with-plugins").Should().Contain("plugins: a queued manifest may not load plugin folders");
        Reason("escape").Should().Contain("name: \"../../escaped\" is not usable as a folder name");
        Reason("sweep-dots").Should().Contain("sweep: key \"..\" is not a manifest path");
        Reason("big").Should().Contain("the manifest is larger than 1024 KiB");
        Reason("bomb").Should().Contain("YAML has more than 100,000 nodes with its aliases expanded");
        Reason(Payload).Should().Contain($"algorithm.name: unknown algorithm '{Payload}'");
        new FileInfo(Path.Combine(queue.Folder("failed"), "link-to-secret.json")).LinkTarget.Should().Be(secret, "the link is filed, not followed");
        Directory.Exists(Path.GetFullPath(Path.Combine(queue.Root, "runs", "..", "..", "escaped"))).Should().BeFalse();

        // The service goes on: the good item ran, with cores / concurrency threads.
        var goodLog = File.ReadAllText(Path.Combine(queue.RunFolder("good"), "run.log"));
        goodLog.Should().Contain($"Threads: {QueueFixture.ThreadsPerRun(2)} of {Environment.ProcessorCount} cores (--threads)");
        var peakKiB = PeakResidentKiB(service.Process.Id);
        output.WriteLine($"service peak resident memory after {refused.Length + 1} items: {peakKiB / 1024} MiB");
        peakKiB.Should().BeLessThan(250 * 1024, "the service only moves files and starts child processes");

        // Nothing of the secret reaches the reason files, the status command, the API or the page.
        using var http = new HttpClient();
        var root = await http.GetAsync($"http://127.0.0.1:{port}/");
        root.Headers.GetValues("Content-Security-Policy").Should().Equal(StatusEndpoints.ContentSecurityPolicy);
        root.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        var api = await http.GetStringAsync($"http://127.0.0.1:{port}/api/runs");
        var status = DistilleryProcess.Run(queue.Work, "status", "--queue", queue.Root);
        var dom = StatusPageTests.RunChromium($"--dump-dom http://127.0.0.1:{port}/");
        service.Signal("TERM");
        service.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(0);

        foreach (var (what, text) in new[] { ("reasons", string.Concat(refused.Select(Reason))), ("api", api), ("status", status.Output + status.Error), ("page", dom) })
            text.Should().NotContain(Secret, what);
        status.ExitCode.Should().Be(0);
        status.Output.Should().Contain("two\\u000Alines").And.Contain("9 failed");

        // The payload is on the page as text, in its row and its reason, and did not run.
        dom.Should().Contain("<title>Distillery queue</title>", "the payload would have set the title");
        dom.Should().NotContain("<img src=\"x\"", "the payload never became an element");
        dom.Should().Contain("<td>&lt;img src=x onerror=document.title='pwned'&gt;</td>");
        dom.Should().Contain("unknown algorithm '&lt;img src=x onerror=document.title='pwned'&gt;'");
        dom.Should().Contain("data-id=\"good\" data-state=\"done\"");
    }

    [Fact]
    public void An_operator_can_allow_manifest_plugin_folders()
    {
        using var queue = new QueueFixture();
        var manifest = QueueFixture.Quick(0);
        manifest["plugins"] = new JsonArray("no-such-plugin-folder");
        queue.Enqueue("with-plugins", manifest);

        using var service = queue.Serve(1, "--allow-manifest-plugins", "--threads-per-run", "1");
        QueueFixture.WaitUntil(() => queue.Ids("done").Contains("with-plugins") || queue.Ids("failed").Contains("with-plugins"), "the item to finish", service);
        service.Signal("TERM");
        service.WaitForResult(TimeSpan.FromMinutes(2));

        queue.Ids("done").Should().Contain("with-plugins", "the operator opted in");
        var log = File.ReadAllText(Path.Combine(queue.RunFolder("with-plugins"), "run.log"));
        log.Should().Contain("no-such-plugin-folder").And.Contain("plugin folder does not exist", "the manifest's folder was searched");
        log.Should().Contain($"Threads: 1 of {Environment.ProcessorCount} cores (--threads)");
    }

    private static bool FiledAsFailed(QueueFixture queue, string id) =>
        File.Exists(Path.Combine(queue.Folder("failed"), id + ".reason.txt"));

    /// <summary>VmHWM: the peak resident memory of a live process, in KiB.</summary>
    internal static long PeakResidentKiB(int processId) =>
        long.Parse(File.ReadLines($"/proc/{processId}/status").Single(l => l.StartsWith("VmHWM:"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
}
