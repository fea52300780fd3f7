using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// Bad input across `run`, `validate`, `task`, `status`, `collect` and `serve`, end to end: each case ends with an
/// `error:` line naming what to change and its documented exit code (2 invalid input, 78 serve cannot use its queue
/// or port), never a stack trace. Every case fails before any run starts, so each takes well under a second.
/// </summary>
public sealed class FailurePathTests
{
    /// <summary>One bad invocation: its arguments (with {dir} for the case's scratch folder), optional environment, and what it must say.</summary>
    public sealed record Case(string[] Arguments, int ExitCode, string Expected, Action<string>? Setup = null,
                              IReadOnlyDictionary<string, string>? Environment = null);

    private const string Manifest = "m.json";

    private static readonly Dictionary<string, Case> Cases = new()
    {
        // run: output folders
        ["run: --output is a file"] = new(["run", Manifest, "--output", "a-file"], 2, "--output: {dir}/a-file is a file, not a folder"),
        ["run: --output lies under a file"] = new(["run", Manifest, "--output", "a-file/run"], 2, "cannot be created: {dir}/a-file is a file, not a folder"),
        ["run: --output not writable"] = new(["run", Manifest, "--output", "/sys/distillery-test-output"], 2, "--output: /sys/distillery-test-output is not writable"),
        ["run: output.directory is a file"] = new(["run", Manifest, "--set", "output.directory=a-file"], 2, "output.directory: {dir}/a-file is a file, not a folder"),
        ["run: --fresh on a file"] = new(["run", Manifest, "--output", "a-file", "--fresh"], 2, "--output: {dir}/a-file is a file, not a folder"),
        ["run: damaged manifest.resolved.json in the run folder"] = new(["run", Manifest, "--output", "damaged-run"], 2,
            "{dir}/damaged-run/manifest.resolved.json: damaged: not a JSON object; pass --fresh to start over",
            Setup: dir => { Directory.CreateDirectory(Path.Combine(dir, "damaged-run")); File.WriteAllText(Path.Combine(dir, "damaged-run", "manifest.resolved.json"), "{ torn"); }),
        ["run: --threads 0"] = new(["run", Manifest, "--threads", "0"], 2, "--threads: must be at least 1, got 0"),
        // run: names used as paths
        ["run: name climbs out"] = new(["run", Manifest, "--set", "name=../../escaped"], 2, "name: \"../../escaped\" is not usable as a folder name: it contains a path separator"),
        ["run: name is .."] = new(["run", Manifest, "--set", "name=.."], 2, "name: \"..\" is not usable as a folder name: it is a relative folder reference"),
        ["run: name with a control character"] = new(["run", Manifest, "--set", "name=\"a\\u001b[31mb\""], 2, "name: \"a\\u001B[31mb\" is not usable as a folder name: it contains a control character"),
        ["run: name is absolute"] = new(["run", Manifest, "--set", "name=/tmp/elsewhere"], 2, "contains a path separator"),
        ["run: sweep key .."] = new(["run", Manifest, "--set", "sweep={\"..\":[1,2]}"], 2, "sweep: key \"..\" is not a manifest path"),
        ["run: sweep key of dots only"] = new(["run", Manifest, "--set", "sweep={\"...\":[1]}"], 2, "sweep: key \"...\" is not a manifest path"),
        ["run: sweep value climbs out"] = new(["run", Manifest, "--set", "sweep={\"name\":[\"../x\"]}"], 2, "name: \"../x\" is not usable as a folder name"),
        ["run: sweep of 10^8 points"] = new(["run", Manifest, "--set", "sweep=" + HugeSweep()], 2, "sweep: the grid has more than 10,000 points (10 × 10 × 10 × 10 × 10 × 10 × 10 × 10)"),
        ["run: --set with no path"] = new(["run", Manifest, "--set", "..=1"], 2, "--set ..=1: '..' names no field"),
        // reading manifests: bounded
        ["validate: YAML billion laughs"] = new(["validate", "bomb.yaml"], 2, "bomb.yaml: YAML has more than 100,000 nodes with its aliases expanded"),
        ["validate: YAML nested 200 deep"] = new(["validate", "deep.yaml"], 2, "deep.yaml: YAML nested more than 64 levels deep"),
        ["validate: JSON nested 200 deep"] = new(["validate", "deep.json"], 2, "deep.json: invalid JSON"),
        ["validate: manifest over 1 MiB"] = new(["validate", "big.json"], 2, "big.json: the manifest is larger than 1024 KiB"),
        ["run: manifest is a folder"] = new(["run", "a-folder"], 2, "a-folder: is a folder, not a manifest file"),
        ["run: queued manifest with plugins"] = new(["run", "with-plugins.json", "--no-manifest-plugins"], 2, "plugins: a queued manifest may not load plugin folders"),
        // task
        ["task: --results is a file"] = new(["task", Manifest, "--results", "a-file", "--index", "0"], 2, "--results: {dir}/a-file is a file, not a folder"),
        ["task: name climbs out of --results"] = new(["task", "escape.json", "--results", "results", "--index", "0"], 2, "name: \"../../escaped\" is not usable as a folder name"),
        ["task: index out of range"] = new(["task", Manifest, "--results", "results", "--index", "7"], 2, "task index 7 is out of range: the manifests have 1 points"),
        ["task: no index"] = new(["task", Manifest, "--results", "results"], 2, "no task index: pass --index N"),
        ["task: index variable not a number"] = new(["task", Manifest, "--results", "results"], 2, "SLURM_ARRAY_TASK_ID=seven is not a task index",
            Environment: new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "seven" }),
        ["task: --threads 0"] = new(["task", Manifest, "--results", "results", "--index", "0", "--threads", "0"], 2, "--threads: must be at least 1, got 0"),
        // status and collect
        ["status: no such queue"] = new(["status", "--queue", "no-such-queue"], 2, "--queue: no-such-queue does not exist"),
        ["status: queue is a file"] = new(["status", "--queue", "a-file"], 2, "--queue: a-file is a file, not a queue folder"),
        ["status: --queue missing"] = new(["status"], 2, "--queue"),
        ["collect: results is a file"] = new(["collect", "a-file"], 2, "a-file is a file, not a results folder"),
        // serve: the service cannot start; 78 so that systemd does not restart it in a loop
        ["serve: inbox is a file"] = new(["serve", "--queue", "queue"], 78, "--queue: {dir}/queue/inbox is a file, not a folder",
            Setup: dir => { Directory.CreateDirectory(Path.Combine(dir, "queue")); File.WriteAllText(Path.Combine(dir, "queue", "inbox"), ""); }),
        ["serve: queue is a file"] = new(["serve", "--queue", "a-file"], 78, "--queue: {dir}/a-file is a file, not a folder"),
        ["serve: queue not writable"] = new(["serve", "--queue", "/sys/distillery-test-queue"], 78, "--queue: /sys/distillery-test-queue is not writable"),
        ["serve: status port taken"] = new(["serve", "--queue", "queue", "--status-port", "{port}"], 78, "--status-port {port}: cannot listen on 127.0.0.1:{port}"),
        ["serve: status port out of range"] = new(["serve", "--queue", "queue", "--status-port", "70000"], 2, "--status-port: must be between 1 and 65535, got 70000"),
        ["serve: --concurrency 0"] = new(["serve", "--queue", "queue", "--concurrency", "0"], 2, "--concurrency: must be at least 1, got 0"),
        ["serve: --threads-per-run 0"] = new(["serve", "--queue", "queue", "--threads-per-run", "0"], 2, "--threads-per-run: must be at least 1, got 0"),
    };

    public static TheoryData<string> CaseNames => new(Cases.Keys);

    [Fact]
    public void There_are_at_least_thirty_cases() => Cases.Count.Should().BeGreaterThanOrEqualTo(30);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void A_bad_input_gives_one_error_line_and_its_documented_exit_code(string name)
    {
        var c = Cases[name];
        using var scratch = new ScratchFolder();
        WriteInputs(scratch.Path);
        c.Setup?.Invoke(scratch.Path);
        // A port another process listens on, for the case that needs one.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port.ToString();
        string Fill(string text) => text.Replace("{dir}", scratch.Path).Replace("{port}", port);

        var result = DistilleryProcess.StartWithEnvironment(scratch.Path, c.Environment ?? new Dictionary<string, string>(),
            c.Arguments.Select(Fill).ToArray()).WaitForResult(TimeSpan.FromMinutes(2));

        result.ExitCode.Should().Be(c.ExitCode, $"{name}: {result}");
        var expected = Fill(c.Expected);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines.Should().Contain(l => l.StartsWith("error: ") && l.Contains(expected), $"{name}: the reason is on an error: line: {result}");
        lines.Should().OnlyContain(l => l.StartsWith("error:") || l.StartsWith("warning:") || l.StartsWith("Try '"), $"{name}: {result}");
        result.Error.Should().NotContain("   at ", "no stack trace reaches the console");
        Directory.Exists(Path.Combine(scratch.Path, "escaped")).Should().BeFalse();
        Directory.Exists(Path.GetFullPath(Path.Combine(scratch.Path, "..", "..", "escaped"))).Should().BeFalse(name);
    }

    /// <summary>The inputs the cases name, all in the case's scratch folder.</summary>
    private static void WriteInputs(string dir)
    {
        string At(string name) => Path.Combine(dir, name);
        File.WriteAllText(At(Manifest), Quick("quick").ToJsonString());
        File.WriteAllText(At("escape.json"), Quick("../../escaped").ToJsonString());
        var withPlugins = Quick("with-plugins");
        withPlugins["plugins"] = new JsonArray("../../../tmp/evil-plugins");
        File.WriteAllText(At("with-plugins.json"), withPlugins.ToJsonString());
        File.WriteAllText(At("a-file"), "not a folder");
        Directory.CreateDirectory(At("a-folder"));
        File.WriteAllText(At("bomb.yaml"), BillionLaughs);
        File.WriteAllText(At("deep.yaml"), "name: deep\nx: " + new string('[', 200) + new string(']', 200) + "\n");
        File.WriteAllText(At("deep.json"), "{\"name\":\"deep\",\"x\":" + new string('[', 200) + new string(']', 200) + "}");
        var big = new StringBuilder("{\"name\":\"big\",\"description\":\"");
        big.Append('x', (1 << 20) + 10).Append("\"}");
        File.WriteAllText(At("big.json"), big.ToString());
    }

    /// <summary>Nine levels of nine aliases each: 342 bytes that expand to 9^9 ≈ 387 million strings.</summary>
    public const string BillionLaughs = """
        a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
        b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
        c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
        d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
        e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
        f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
        g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
        h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
        i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
        """;

    private static string HugeSweep() =>
        new JsonObject(Enumerable.Range(0, 8).Select(i => KeyValuePair.Create($"description{i}",
            (JsonNode?)new JsonArray(Enumerable.Range(0, 10).Select(v => (JsonNode)v).ToArray())))).ToJsonString();

    private static JsonObject Quick(string name)
    {
        var manifest = Service.QueueFixture.Quick(0);
        manifest["name"] = name;
        return manifest;
    }
}
