using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Distillery.Tests.EndToEnd;

namespace Distillery.Tests.Service;

/// <summary>A queue folder, manifests to drop in it, and waiting on its state.</summary>
internal sealed class QueueFixture : IDisposable
{
    private readonly ScratchFolder _scratch = new();

    public string Root => _scratch.Combine("queue");
    public string Inbox => Path.Combine(Root, "inbox");
    public string Work => _scratch.Path;

    public QueueFixture() => Directory.CreateDirectory(Inbox);

    public string Folder(string state) => Path.Combine(Root, state);
    public string RunFolder(string id) => Path.Combine(Root, "runs", id);
    public string ReasonFileOf(string id) => Path.Combine(Folder("failed"), id + ".reason.txt");
    public IEnumerable<string> Ids(string state) =>
        Directory.Exists(Folder(state))
            ? Directory.EnumerateFiles(Folder(state), "*.json").Select(f => Path.GetFileNameWithoutExtension(f)!).Order()
            : [];

    /// <summary>Writes a manifest into the inbox the safe way: elsewhere first, then a rename.</summary>
    public void Enqueue(string id, JsonObject manifest) => EnqueueText(id, manifest.ToJsonString());

    public void EnqueueText(string id, string text)
    {
        var staging = _scratch.Combine(id + ".staging");
        File.WriteAllText(staging, text);
        File.Move(staging, Path.Combine(Inbox, id + ".json"));
    }

    public DistilleryProcess.Running Serve(int concurrency = 2, params string[] extra) =>
        DistilleryProcess.Start(Work, ["serve", "--queue", Root, "--concurrency", concurrency.ToString(), .. extra]);

    /// <summary>A natural-images run on the embedded sample: a second or two.</summary>
    public static JsonObject Quick(int seed) => new()
    {
        ["name"] = $"quick-{seed}",
        ["seed"] = seed,
        ["dataset"] = new JsonObject { ["name"] = "fashion-mnist-sample" },
        ["preprocess"] = new JsonArray(new JsonObject { ["name"] = "standardize" }),
        ["kernel"] = new JsonObject { ["name"] = "fc" },
        ["algorithm"] = new JsonObject { ["name"] = "natural", ["options"] = new JsonObject { ["imagesPerClass"] = 2 } },
        ["evaluation"] = new JsonArray(new JsonObject { ["name"] = "krr" }),
    };

    /// <summary>A KIP run long enough to be interrupted (a few seconds when uninterrupted).</summary>
    public static JsonObject Long(int steps = 300)
    {
        var manifest = RunFixtures.SmallKipManifest(steps);
        manifest["algorithm"]!["options"]!["targetBatchSize"] = 500;
        manifest["algorithm"]!["options"]!["evaluationInterval"] = 50;
        manifest["algorithm"]!["options"]!["checkpointInterval"] = 20;
        return manifest;
    }

    /// <summary>Waits for <paramref name="condition"/>; fails at once if <paramref name="process"/> ended first.</summary>
    public static void WaitUntil(Func<bool> condition, string what, DistilleryProcess.Running? process = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(10));
        while (!condition())
        {
            if (process is not null && process.Process.HasExited)
                throw new InvalidOperationException($"distillery ended before {what}: {process.WaitForResult(TimeSpan.FromSeconds(10))}");
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            Thread.Sleep(100);
        }
    }

    public static int ProgressSteps(string runFolder)
    {
        var path = Path.Combine(runFolder, "progress.jsonl");
        if (!File.Exists(path)) return 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n').Count(l => l.Contains("\"loss\""));
    }

    /// <summary>The threads `serve --concurrency N` gives each run here: max(1, cores / N), as the README states.</summary>
    public static int ThreadsPerRun(int concurrency) => Math.Max(1, Environment.ProcessorCount / concurrency);

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose() => _scratch.Dispose();
}
