using System.Buffers.Binary;
using System.Text.Json.Nodes;
using Distillery.Engine.Outputs;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>The executable run end to end on the embedded sample: outputs, determinism, resuming, validate, plugins.</summary>
public sealed class RunTests
{
    [Fact]
    public void Run_writes_every_output_and_improves_on_its_natural_starting_point()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 30));
        var runFolder = scratch.Combine("run");

        var result = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", runFolder);

        result.ExitCode.Should().Be(0, result.ToString());
        foreach (var file in new[] { "manifest.resolved.json", "metrics.json", "progress.jsonl", "run.log", "distilled.safetensors", "distilled.png", "preprocessing.safetensors" })
            File.Exists(Path.Combine(runFolder, file)).Should().BeTrue(file);
        Directory.EnumerateFiles(Path.Combine(runFolder, "checkpoints"), "step-*.safetensors").Should().NotBeEmpty();

        var metrics = RunFixtures.Metrics(runFolder);
        metrics["wallSeconds"]!.GetValue<double>().Should().BePositive();
        metrics["peakMemoryBytes"]!.GetValue<long>().Should().BePositive();
        metrics["evaluations"]!["krr"]!["testCount"]!.GetValue<double>().Should().Be(1000);

        var progress = File.ReadAllLines(Path.Combine(runFolder, "progress.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        progress.Where(p => p["loss"] is not null).Should().HaveCount(30);
        progress.Should().Contain(p => p["event"] != null && p["event"]!.GetValue<string>() == "start" && p["totalSteps"]!.GetValue<long>() == 30);
        var initialAccuracy = progress.First(p => p["metrics"] != null && p["step"]!.GetValue<long>() == 0)["metrics"]!["krr.testAccuracy"]!.GetValue<double>();
        RunFixtures.KrrAccuracy(runFolder).Should().BeGreaterThan(initialAccuracy + 0.02, "KIP should improve on the random real images it starts from");

        var distilled = SafeTensorsFile.Read(Path.Combine(runFolder, "distilled.safetensors"));
        distilled.Tensors["images"].shape.Should().Equal(20, 1, 28, 28);
        distilled.Tensors["targets"].shape.Should().Equal(20, 10);
        distilled.Tensors["classes"].shape.Should().Equal(20);
        distilled.Metadata["classNames"].Should().Contain("Ankle boot");

        var png = File.ReadAllBytes(Path.Combine(runFolder, "distilled.png"));
        png.Take(8).Should().Equal(0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A);
        // 10 rows of classes, 2 images each, 28 px enlarged twice plus 2 px gaps.
        BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)).Should().Be(2 * 58 + 2);
        BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)).Should().Be(10 * 58 + 2);

        var resolved = JsonNode.Parse(File.ReadAllText(Path.Combine(runFolder, "manifest.resolved.json")))!;
        resolved["algorithm"]!["options"]!["learningRate"]!.GetValue<double>().Should().Be(0.04, "defaults are filled in");
        resolved["kernel"]!["options"]!["output"]!.GetValue<string>().Should().Be("ntk");
    }

    [Fact]
    public void Same_manifest_and_seed_give_identical_metrics_and_images_and_a_rerun_resumes_to_the_same_result()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 15));
        var (first, second) = (scratch.Combine("first"), scratch.Combine("second"));

        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", first).ExitCode.Should().Be(0);
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", second).ExitCode.Should().Be(0);
        var again = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", first);
        again.ExitCode.Should().Be(0, again.ToString());

        RunFixtures.Metrics(second)["evaluations"]!.ToJsonString().Should().Be(RunFixtures.Metrics(first)["evaluations"]!.ToJsonString());
        var imagesFirst = SafeTensorsFile.Read(Path.Combine(first, "distilled.safetensors")).Tensors["images"];
        var imagesSecond = SafeTensorsFile.Read(Path.Combine(second, "distilled.safetensors")).Tensors["images"];
        imagesFirst.eq(imagesSecond).all().item<bool>().Should().BeTrue();
        File.ReadAllText(Path.Combine(first, "run.log")).Should().Contain("already finished");
    }

    [Fact]
    public void A_folder_holding_a_different_experiment_is_refused_unless_fresh()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 5));
        var folder = scratch.Combine("run");
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder).ExitCode.Should().Be(0);

        var changed = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder, "--set", "seed=4");
        changed.ExitCode.Should().Be(2);
        changed.Error.Should().Contain("holds a different experiment");

        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder, "--set", "seed=4", "--fresh").ExitCode.Should().Be(0);
    }

    [Fact]
    public void Changing_only_the_evaluation_re_evaluates_the_distilled_set_without_distilling_again()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 15));
        var (folder, fresh) = (scratch.Combine("run"), scratch.Combine("fresh"));
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder).ExitCode.Should().Be(0);
        var firstFigures = RunFixtures.Metrics(folder)["evaluations"]!.ToJsonString();
        var withTransfer = """evaluation=[{"name":"krr"},{"name":"transfer","options":{"network":"fc","width":32,"steps":10,"seeds":1}}]""";

        var again = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", folder, "--set", withTransfer);
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", fresh, "--set", withTransfer).ExitCode.Should().Be(0);

        again.ExitCode.Should().Be(0, again.ToString());
        File.ReadAllText(Path.Combine(folder, "run.log")).Should().Contain("evaluating anew");
        var kipSteps = File.ReadAllLines(Path.Combine(folder, "progress.jsonl")).Select(l => JsonNode.Parse(l)!)
            .Where(p => p["phase"]!.GetValue<string>() == "kip" && p["loss"] is not null);
        kipSteps.Should().HaveCount(15, "the distillation resumes from its final checkpoint");
        JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "metrics.previous.json")))!["evaluations"]!.ToJsonString()
            .Should().Be(firstFigures, "the earlier figures are kept");
        var figures = RunFixtures.Metrics(folder)["evaluations"]!;
        figures.ToJsonString().Should().Be(RunFixtures.Metrics(fresh)["evaluations"]!.ToJsonString());
        figures["transfer"]!["testAccuracy"]!.GetValue<double>().Should().BeInRange(0.1, 1);
    }

    [Fact]
    public void Validate_prints_the_resolved_manifest_and_runs_nothing()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest());

        var result = DistilleryProcess.Run(scratch.Path, "validate", manifest, "--set", "algorithm.options.steps=7");

        result.ExitCode.Should().Be(0, result.ToString());
        var resolved = JsonNode.Parse(result.Output)!;
        resolved["algorithm"]!["options"]!["steps"]!.GetValue<int>().Should().Be(7);
        resolved["algorithm"]!["options"]!["regularization"]!.GetValue<double>().Should().Be(1e-6);
        Directory.Exists(scratch.Combine("runs")).Should().BeFalse();
    }

    public static TheoryData<string> ShippedManifests() =>
        new(Directory.GetFiles(Path.Combine(DistilleryProcess.RepositoryRoot, "manifests"))
            .Where(p => !p.EndsWith(".schema.json", StringComparison.Ordinal)) // the manifests' JSON Schema, not a manifest
            .Select(Path.GetFileName).Order()!);

    [Theory]
    [MemberData(nameof(ShippedManifests))]
    public void Every_manifest_shipped_in_the_repository_is_valid(string name)
    {
        var manifest = Path.Combine(DistilleryProcess.RepositoryRoot, "manifests", name);
        var result = DistilleryProcess.Run(Path.GetTempPath(), "validate", manifest);
        result.ExitCode.Should().Be(0, result.ToString());
    }

    [Fact]
    public void Yaml_manifests_run_like_json_ones()
    {
        using var scratch = new ScratchFolder();
        var yaml = """
            name: yaml-natural
            seed: 1
            dataset: { name: fashion-mnist-sample }
            preprocess:
              - name: standardize
            kernel: { name: fc, options: { depth: 1, output: nngp } }
            algorithm: { name: natural, options: { imagesPerClass: 3 } }
            evaluation:
              - name: krr
            """;
        var manifest = scratch.Combine("natural.yaml");
        File.WriteAllText(manifest, yaml);

        var result = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", scratch.Combine("run"));

        result.ExitCode.Should().Be(0, result.ToString());
        RunFixtures.KrrAccuracy(scratch.Combine("run")).Should().BeInRange(0.3, 1.0);
    }

    [Fact]
    public void Plugins_lists_every_bundled_plugin_with_its_version_and_options()
    {
        var result = DistilleryProcess.Run(Path.GetTempPath(), "plugins");

        result.ExitCode.Should().Be(0, result.ToString());
        foreach (var expected in new[] { "algorithm kip", "algorithm label-solve", "algorithm natural", "algorithm dc", "algorithm dsa", "algorithm dm", "kernel fc", "dataset fashion-mnist",
                                          "dataset fashion-mnist-sample", "dataset mnist", "dataset kmnist", "preprocessor standardize", "evaluator krr",
                                          "learningRate", "targetBatchSize", "one of ntk, nngp" })
            result.Output.Should().Contain(expected);
        result.Output.Should().Contain("algorithm kip (version 1) — ", "each plugin shows its version");

        var algorithms = DistilleryProcess.Run(Path.GetTempPath(), "plugins", "--kind", "Algorithm"); // kinds in any case
        algorithms.ExitCode.Should().Be(0, algorithms.ToString());
        algorithms.Output.Should().Contain("kip").And.NotContain("kernel fc");
        // Piped, as here, nothing wraps at 80 columns: an option's whole row, description included, is one line to grep,
        // and it names its plugin.
        var longest = Distillery.Engine.Manifests.OptionsSchema.Describe(typeof(Distillery.Kip.KipOptions)).MaxBy(o => o.Description.Length)!;
        longest.Description.Length.Should().BeGreaterThan(80, "else the test would pass with wrapping too");
        var lines = algorithms.Output.Split('\n');
        var row = string.Join('\t', "algorithm", "kip", longest.Name, longest.Type, longest.Default,
                              longest.Description + (longest.Constraint is null ? "" : $" ({longest.Constraint})"));
        lines.Should().Contain(line => line.TrimEnd('\r') == row, "a row is its plugin's kind and name and the option's fields, tab-separated");
        lines.Should().NotContain(line => line.TrimEnd('\r') != line.TrimEnd(), "no line carries a table's padding");
        algorithms.Output.Should().NotContain("\u001b[", "a pipe gets no terminal escapes");
        // A dataset whose folder has no default says so instead of showing a default of null.
        DistilleryProcess.Run(Path.GetTempPath(), "plugins", "--kind", "dataset").Output.Split('\n')
            .Should().Contain(line => line.StartsWith("dataset\tmnist\tpath\tstring\t(required)\t"));
    }

    [Fact]
    public void A_moved_run_folder_is_the_same_experiment_and_another_experiment_is_still_refused_there()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 10));
        var (original, moved) = (scratch.Combine("original"), scratch.Combine("moved"));
        DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", original).ExitCode.Should().Be(0);
        var figures = File.ReadAllText(Path.Combine(original, "metrics.json"));
        Directory.Move(original, moved);

        var again = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", moved);

        again.ExitCode.Should().Be(0, again.ToString());
        again.Output.Should().Contain("already finished", "where a folder lies is not part of its experiment");
        File.ReadAllText(Path.Combine(moved, "metrics.json")).Should().Be(figures);
        var other = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", moved, "--set", "algorithm.options.steps=11");
        other.ExitCode.Should().Be(2, other.ToString());
        other.Error.Should().Contain("holds a different experiment");
    }

    [Fact]
    public void A_sweep_whose_points_all_fail_as_invalid_input_exits_2()
    {
        using var scratch = new ScratchFolder();
        var sweep = RunFixtures.SmallKipManifest(steps: 2);
        // The sample has 500 images per class: each point is refused once its data is loaded.
        sweep["sweep"] = new JsonObject { ["algorithm.options.imagesPerClass"] = new JsonArray(600, 700) };
        var manifest = RunFixtures.Write(scratch.Path, sweep);

        var result = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", scratch.Combine("sweep"));

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("2 of 2 sweep points failed").And.Contain("smallest class of the training set has 500 images");
    }
}
