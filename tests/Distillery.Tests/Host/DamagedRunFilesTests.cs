using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Outputs;
using Distillery.Engine.Runs;
using Distillery.Engine.Sweeps;
using Distillery.Service;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Host;

/// <summary>
/// Files a run wrote, damaged afterwards (torn by a crash, edited by hand): each reader names the file and the
/// problem, skips what it cannot use and goes on, and never quotes the file's content.
/// </summary>
public sealed class DamagedRunFilesTests : IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private const string Secret = "TOP-SECRET-VALUE";

    private static string GoodMetrics(double accuracy) => new JsonObject
    {
        ["evaluations"] = new JsonObject { ["krr"] = new JsonObject { ["testAccuracy"] = accuracy, ["testLoss"] = null } },
        ["supportSize"] = 20, ["wallSeconds"] = 1.5, ["peakMemoryBytes"] = 1000,
    }.ToJsonString();

    public static TheoryData<string, string> DamagedMetrics => new()
    {
        { $"{{ \"evaluations\": {Secret}", "damaged: not a JSON object" },
        { $"[\"{Secret}\"]", "damaged: not a JSON object" },
        { $"{{ \"evaluations\": {{ \"krr\": {{ \"testAccuracy\": \"{Secret}\" }} }}, \"supportSize\": 1, \"wallSeconds\": 1, \"peakMemoryBytes\": 1 }}", "'evaluations.krr.testAccuracy' is not a number" },
        { $"{{ \"evaluations\": {{ \"krr\": 1 }}, \"supportSize\": 1, \"wallSeconds\": 1, \"peakMemoryBytes\": 1 }}", "'evaluations.krr' is not an object" },
        { $"{{ \"evaluations\": {{}}, \"supportSize\": 1, \"wallSeconds\": \"{Secret}\", \"peakMemoryBytes\": 1 }}", "'wallSeconds' is missing or not a number" },
        { "{ \"supportSize\": 1 }", "'evaluations' is missing or not an object" },
    };

    [Theory]
    [MemberData(nameof(DamagedMetrics))]
    public void A_damaged_metrics_file_is_named_with_its_problem_and_not_quoted(string content, string problem)
    {
        var path = _temp.File("metrics.json");
        File.WriteAllText(path, content);

        var act = () => RunMetrics.TryRead(path);

        act.Should().Throw<DataFormatException>().Which.Message.Should().StartWith(path).And.Contain(problem).And.NotContain(Secret);
    }

    [Fact]
    public void Metrics_read_back_as_written()
    {
        var path = _temp.File("metrics.json");
        File.WriteAllText(path, GoodMetrics(0.5));

        var metrics = RunMetrics.TryRead(path)!;

        metrics.Evaluations["krr"]["testAccuracy"].Should().Be(0.5);
        double.IsNaN(metrics.Evaluations["krr"]["testLoss"]).Should().BeTrue("null stands for a non-finite figure");
        (metrics.SupportSize, metrics.WallSeconds, metrics.PeakMemoryBytes).Should().Be((20, 1.5, 1000L));
        RunMetrics.TryRead(_temp.File("none.json")).Should().BeNull("no file: the run has not finished");
    }

    [Fact]
    public void Collect_skips_a_damaged_run_and_says_why_while_the_others_make_the_table()
    {
        foreach (var (name, content) in new[] { ("good", GoodMetrics(0.8)), ("garbage", "\u0000\u0001 not json " + Secret), ("partial", "{\"evaluations\":") })
        {
            Directory.CreateDirectory(_temp.File(name));
            File.WriteAllText(Path.Combine(_temp.File(name), "metrics.json"), content);
        }
        Directory.CreateDirectory(_temp.File("bad-point"));
        File.WriteAllText(Path.Combine(_temp.File("bad-point"), "metrics.json"), GoodMetrics(0.7));
        File.WriteAllText(new RunFolder(_temp.File("bad-point")).Point, "{\"values\": 3}");

        var (finished, skipped) = PointRecord.Collect(_temp.Path);

        finished.Select(r => r.Name).Should().Equal("good");
        skipped.Should().HaveCount(3);
        skipped.Should().Contain(s => s.StartsWith(Path.Combine(_temp.File("garbage"), "metrics.json")) && s.Contains("not a JSON object"));
        skipped.Should().Contain(s => s.Contains(Path.Combine("bad-point", "point.json")) && s.Contains("'values' is not an object"));
        skipped.Should().NotContain(s => s.Contains(Secret));
        new ResultsTable(finished).ToMarkdown().Should().Contain("80.00");
    }

    [Fact]
    public void Status_shows_an_item_with_damaged_files_with_its_problem_and_the_others_as_usual()
    {
        var queue = new QueueFolders(_temp.File("queue"));
        queue.Create();
        void Item(string state, string id, string? metrics, params string[] progress)
        {
            File.WriteAllText(Path.Combine(queue.Root, state, id + ".json"), "{}");
            Directory.CreateDirectory(queue.RunFolder(id));
            if (metrics is not null) File.WriteAllText(Path.Combine(queue.RunFolder(id), "metrics.json"), metrics);
            if (progress.Length > 0) File.WriteAllText(Path.Combine(queue.RunFolder(id), "progress.jsonl"), string.Join("\n", progress));
        }
        Item("done", "good", GoodMetrics(0.9));
        Item("done", "garbage-metrics", Secret + "{{{");
        Item("running", "torn-progress", null,
            "{\"phase\":\"kip\",\"event\":\"start\",\"totalSteps\":100,\"firstStep\":0}",
            "{\"phase\":\"kip\",\"step\":1,\"loss\":0.5}",
            Secret + " garbage",
            "{\"phase\":\"kip\",\"step\":\"two\",\"loss\":[1]}",
            "{\"phase\":\"kip\",\"step\":3,\"loss\":0.25}",
            "{\"phase\":\"kip\",\"st"); // the line being written: not damage

        var items = new QueueStatus(queue.Root).Items().ToDictionary(i => i.Id);

        items["good"].Metrics["krr.testAccuracy"].Should().Be(0.9);
        items["good"].Problem.Should().BeNull();
        items["garbage-metrics"].Problem.Should().Contain(Path.Combine(queue.RunFolder("garbage-metrics"), "metrics.json"))
            .And.Contain("not a JSON object").And.NotContain(Secret);
        items["garbage-metrics"].Metrics.Should().BeEmpty();
        items["torn-progress"].Problem.Should().Contain("progress.jsonl: line 3 damaged").And.NotContain(Secret);
        (items["torn-progress"].Step, items["torn-progress"].TotalSteps, items["torn-progress"].Loss).Should().Be((3L, 100L, 0.25));
        new QueueStatus(queue.Root).LossCurve("torn-progress").Should().Equal((1L, 0.5), (3L, 0.25));
        items["garbage-metrics"].ToJson()["problem"]!.GetValue<string>().Should().Contain("metrics.json");
    }

    [Fact]
    public void A_checkpoint_without_its_checksum_counts_as_damaged_and_the_one_before_is_used()
    {
        var folder = _temp.File("checkpoints");
        var logger = new CollectingLogger();
        var store = new CheckpointStore(folder, logger);
        using var earlier = torch.full([2], 1f);
        store.Save(10, new Dictionary<string, Tensor> { ["x"] = earlier });
        // Step 20 as another safetensors writer would write it: no checksum in its metadata.
        File.WriteAllBytes(Path.Combine(folder, "step-00000020.safetensors"), WithoutChecksum(Path.Combine(folder, "step-00000010.safetensors"), "20"));

        store.LoadLatest()!.Step.Should().Be(10);
        logger.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Which.Message
            .Should().Contain("step-00000020.safetensors").And.Contain("no checksum");

        File.WriteAllBytes(Path.Combine(folder, "step-00000010.safetensors"), WithoutChecksum(Path.Combine(folder, "step-00000010.safetensors"), "10"));
        store.LoadLatest().Should().BeNull();
        logger.Entries.Last().Message.Should().Contain("No intact checkpoint").And.Contain("starting from step 0");
    }

    /// <summary>The same tensors with the step metadata set and the sha256 entry removed: a valid safetensors file that cannot be verified.</summary>
    private static byte[] WithoutChecksum(string source, string step)
    {
        var contents = SafeTensorsFile.Read(source);
        var copy = Path.Combine(Path.GetDirectoryName(source)!, "copy.bin");
        SafeTensorsFile.Write(copy, contents.Tensors, new Dictionary<string, string> { ["step"] = step });
        var bytes = File.ReadAllBytes(copy);
        File.Delete(copy);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var header = JsonNode.Parse(System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength))!.AsObject();
        header["__metadata__"]!.AsObject().Remove("sha256");
        var newHeader = System.Text.Encoding.UTF8.GetBytes(header.ToJsonString().PadRight(headerLength));
        newHeader.Length.Should().Be(headerLength, "a shorter header padded to the same length keeps the data offsets");
        return [.. bytes[..8], .. newHeader, .. bytes[(8 + headerLength)..]];
    }
}
