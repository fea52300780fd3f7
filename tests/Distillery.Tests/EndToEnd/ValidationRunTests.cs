using System.Text.Json.Nodes;
using Distillery.Abstractions.Manifests;
using Distillery.Datasets;
using Distillery.Engine.Outputs;
using Distillery.Engine.Runs;
using FluentAssertions;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.EndToEnd;

/// <summary>The executable with a validation split held out of the embedded sample's training set.</summary>
public sealed class ValidationRunTests
{
    [Fact]
    public void A_run_with_a_validation_split_reports_validation_figures_everywhere()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.SmallKipManifest(steps: 10);
        manifest["validation"] = new JsonObject { ["images"] = 200 };
        var runFolder = scratch.Combine("run");

        var result = DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, manifest), "--output", runFolder);

        result.ExitCode.Should().Be(0, result.ToString());
        var metrics = RunFixtures.Metrics(runFolder);
        metrics["evaluatedOn"]!.GetValue<string>().Should().Be("validation");
        var krr = metrics["evaluations"]!["krr"]!.AsObject();
        krr.Select(f => f.Key).Should().BeEquivalentTo("validationAccuracy", "validationLoss", "validationCount");
        krr["validationCount"]!.GetValue<double>().Should().Be(200, "scored on the 200 held-out images, not the 1,000 test images");
        krr["validationAccuracy"]!.GetValue<double>().Should().BeInRange(0.3, 1);

        var progress = File.ReadAllLines(Path.Combine(runFolder, "progress.jsonl")).Select(l => JsonNode.Parse(l)!).ToList();
        progress.First(p => p["metrics"] is not null)["metrics"]!.AsObject().Select(m => m.Key)
            .Should().Contain("krr.validationAccuracy").And.NotContain("krr.testAccuracy");
        result.Output.Should().Contain("krr validationAccuracy").And.NotContain("testAccuracy");
        File.ReadAllText(Path.Combine(runFolder, "run.log")).Should().Contain("Validation split: 200 of the 5000 training images (20 per class");
        JsonNode.Parse(File.ReadAllText(Path.Combine(runFolder, "manifest.resolved.json")))!["validation"]!["images"]!.GetValue<int>().Should().Be(200);
    }

    [Fact]
    public void The_algorithm_is_handed_exactly_the_training_images_outside_the_split()
    {
        // natural keeps real images as they are (no preprocessing here, so the saved pixels are the images): with
        // 450 of every class's 500 held out and 50 per class asked for, its support set must be exactly the 500
        // training images the split leaves, drawn as the host draws them for seed 3.
        using var scratch = new ScratchFolder();
        var manifest = new JsonObject
        {
            ["name"] = "e2e-validation-natural",
            ["seed"] = 3,
            ["dataset"] = new JsonObject { ["name"] = "fashion-mnist-sample" },
            ["algorithm"] = new JsonObject { ["name"] = "natural", ["options"] = new JsonObject { ["imagesPerClass"] = 50 } },
            ["validation"] = new JsonObject { ["images"] = 4500 },
        };
        var runFolder = scratch.Combine("run");

        var result = DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, manifest), "--output", runFolder);

        result.ExitCode.Should().Be(0, result.ToString());
        using var scope = NewDisposeScope();
        var support = SafeTensorsFile.Read(Path.Combine(runFolder, "distilled.safetensors")).Tensors["pixels"];
        var train = new FashionMnistSampleDataset().Load(Run(seed: 3), new FashionMnistSampleOptions()).Train;
        var (kept, validation) = ValidationSplit.Apply(train, new ValidationSection { Images = 4500 }, Run(seed: 3));

        Rows(support).Order().Should().Equal(Rows(kept.Images).Order());
        Rows(support).Intersect(Rows(validation.Images)).Should().BeEmpty();
    }

    /// <summary>Each image's pixels as one string, to compare sets of images exactly.</summary>
    private static IEnumerable<string> Rows(Tensor images)
    {
        var flat = images.to(float64).flatten(1);
        return Enumerable.Range(0, (int)flat.shape[0]).Select(i => string.Join(",", Values(flat[i]))).ToList();
    }
}
