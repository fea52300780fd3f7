using System.Buffers.Binary;
using System.Text.Json.Nodes;
using FluentAssertions;
using StbImageSharp;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// The TensorBoard event files and plots of a run, read back with the test's own reader: the scalars are the
/// progress log's values, the images are the run's grids, and a run stopped (SIGINT), killed (SIGKILL, after a
/// checkpoint, so that it redoes steps on resuming) and resumed logs no step twice.
/// </summary>
public sealed class TensorBoardTests
{
    private const int Steps = 50;

    [Fact]
    public void Event_files_hold_every_step_once_across_a_stop_a_kill_and_two_resumes()
    {
        using var scratch = new ScratchFolder();
        var manifestJson = RunFixtures.SmallKipManifest(steps: Steps);
        manifestJson["algorithm"]!["options"]!["evaluationInterval"] = 10;
        manifestJson["algorithm"]!["options"]!["checkpointInterval"] = 15;
        var manifest = RunFixtures.Write(scratch.Path, manifestJson);
        var folder = scratch.Combine("run");
        var progressPath = Path.Combine(folder, "progress.jsonl");

        using (var first = DistilleryProcess.Start(scratch.Path, "run", manifest, "--output", folder))
        {
            WaitForStep(progressPath, 6);
            first.Signal("INT");
            first.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(130);
        }
        using (var second = DistilleryProcess.Start(scratch.Path, "run", manifest, "--output", folder))
        {
            WaitForStep(progressPath, 20); // past the checkpoint at 15: the resumed run redoes the steps after it
            second.Process.Kill();
            second.Process.WaitForExit();
        }
        var last = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder);
        last.ExitCode.Should().Be(0, last.ToString());

        var progress = File.ReadLines(progressPath).Select(l => JsonNode.Parse(l)!.AsObject()).Where(l => l["step"] is not null).ToList();
        progress.GroupBy(p => p["step"]!.GetValue<long>()).Should().Contain(g => g.Count() > 1,
            "the killed attempt logged steps past its checkpoint, so progress.jsonl holds some step twice and the event files are put to the test");

        var files = Directory.GetFiles(folder, "events.out.tfevents.*").Select(TensorBoardEventReader.Read).ToList();
        files.Should().HaveCount(3, "one event file per attempt");
        files.Should().OnlyContain(f => f.Events[0].FileVersion == "brain.Event:2");
        files.Where(f => f.TornTail).Should().HaveCountLessThanOrEqualTo(1, "only the killed writer may leave a torn last record");
        var values = files.SelectMany(f => f.Events.SelectMany(e => e.Values.Select(v => (e.Step, e.WallTime, Value: v)))).ToList();
        values.GroupBy(v => (v.Value.Tag, v.Step)).Where(g => g.Count() > 1).Select(g => $"{g.Key.Tag}@{g.Key.Step} ×{g.Count()}")
            .Should().BeEmpty("no (tag, step) is logged twice");
        values.Where(v => Math.Abs(v.WallTime - DateTimeOffset.UtcNow.ToUnixTimeSeconds()) > 3600).Select(v => $"{v.Value.Tag}@{v.Step}: {v.WallTime}")
            .Should().BeEmpty("wall times are Unix seconds");

        // Every step's loss, as in progress.jsonl (every copy of a redone step there agrees: resuming is exact).
        var losses = values.Where(v => v.Value.Tag == "kip/loss").ToDictionary(v => v.Step, v => v.Value.Scalar!.Value);
        losses.Keys.Should().BeEquivalentTo(Enumerable.Range(1, Steps).Select(s => (long)s));
        foreach (var line in progress.Where(p => p["loss"] is not null))
            losses[line["step"]!.GetValue<long>()].Should().Be((float)line["loss"]!.GetValue<double>());

        // Every figure at every periodic evaluation, then the final figures (metrics.json) at the last step.
        var accuracy = values.Where(v => v.Value.Tag == "kip/krr.testAccuracy").ToDictionary(v => v.Step, v => v.Value.Scalar!.Value);
        accuracy.Keys.Should().BeEquivalentTo(new long[] { 0, 10, 20, 30, 40, Steps });
        foreach (var line in progress.Where(p => p["metrics"] is not null))
            accuracy[line["step"]!.GetValue<long>()].Should().Be((float)line["metrics"]!["krr.testAccuracy"]!.GetValue<double>());
        accuracy[Steps].Should().Be((float)RunFixtures.KrrAccuracy(folder));

        // The image grid at each evaluation; the last one is distilled.png, pixel for pixel.
        var images = values.Where(v => v.Value.Tag == "kip/images").OrderBy(v => v.Step).ToList();
        images.Select(v => v.Step).Should().Equal(0, 10, 20, 30, 40, Steps);
        foreach (var (_, _, image) in images)
        {
            image.Png!.Take(8).Should().Equal(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A);
            (BinaryPrimitives.ReadInt32BigEndian(image.Png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(image.Png.AsSpan(20)))
                .Should().Be((image.ImageWidth, image.ImageHeight));
        }
        var logged = ImageResult.FromMemory(images[^1].Value.Png, ColorComponents.RedGreenBlue);
        var grid = ImageResult.FromMemory(File.ReadAllBytes(Path.Combine(folder, "distilled.png")), ColorComponents.RedGreenBlue);
        (logged.Width, logged.Height).Should().Be((grid.Width, grid.Height));
        logged.Data.Should().Equal(grid.Data);

        // The resolved options, once, as a Markdown code block (indented: no content can turn into markup).
        var options = values.Where(v => v.Value.Tag == "options/text_summary").Should().ContainSingle().Which;
        options.Step.Should().Be(0);
        options.Value.Text.Should().Contain("    \"learningRate\": 0.04").And.Contain("\"targetBatchSize\": 500");

        File.ReadAllBytes(Path.Combine(folder, "progress.png")).Take(4).Should().Equal(0x89, 0x50, 0x4E, 0x47);
    }

    [Fact]
    public void A_sweep_gives_each_point_its_own_event_files_and_a_results_chart_and_tensorboard_can_be_turned_off()
    {
        using var scratch = new ScratchFolder();
        var manifestJson = RunFixtures.SmallKipManifest(steps: 3);
        manifestJson["sweep"] = new JsonObject { ["output.tensorboard"] = new JsonArray(true, false), ["seed"] = new JsonArray(0, 1) };
        var folder = scratch.Combine("sweep");

        var result = DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, manifestJson), "--output", folder);

        result.ExitCode.Should().Be(0, result.ToString());
        Directory.GetFiles(folder, "events.out.tfevents.*").Should().BeEmpty("tensorboard --logdir on the sweep folder shows one run per point");
        foreach (var seed in new[] { 0, 1 })
        {
            var on = Path.Combine(folder, $"tensorboard-true_seed-{seed}");
            var off = Path.Combine(folder, $"tensorboard-false_seed-{seed}");
            Directory.GetFiles(on, "events.out.tfevents.*").Should().ContainSingle()
                .Which.Should().Match(f => TensorBoardEventReader.Read(f).Events.Any(e => e.Values.Any(v => v.Tag == "kip/loss")));
            Directory.GetFiles(off, "events.out.tfevents.*").Should().BeEmpty();
            File.Exists(Path.Combine(off, "progress.png")).Should().BeTrue("plots do not depend on TensorBoard");
        }
        var chart = ImageResult.FromMemory(File.ReadAllBytes(Path.Combine(folder, "results.png")), ColorComponents.RedGreenBlue);
        chart.Width.Should().Be(1000);
        chart.Height.Should().BeGreaterThan(300);
    }

    private static void WaitForStep(string progressPath, long step)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(progressPath) && File.ReadLines(progressPath).Any(l => l.Contains($"\"step\":{step},")))
                return;
            Thread.Sleep(20);
        }
        throw new TimeoutException($"no step {step} in {progressPath}");
    }
}
