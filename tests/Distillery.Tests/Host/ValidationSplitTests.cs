using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Manifests;
using Distillery.Engine.Manifests;
using Distillery.Engine.Plugins;
using Distillery.Engine.Runs;
using FluentAssertions;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Host;

/// <summary>The manifest's <c>validation</c> section: the split itself, the figures' names and the manifest checks.</summary>
public sealed class ValidationSplitTests(BundledPluginsFixture plugins) : IClassFixture<BundledPluginsFixture>
{
    private const int Classes = 4, PerClass = 25;

    /// <summary>4 classes × 25 images, each image a constant equal to its index, so an image names itself.</summary>
    private static ImageSet Indexed()
    {
        var count = Classes * PerClass;
        var images = arange(count, dtype: float64).reshape(count, 1, 1, 1).expand(count, 1, 2, 2).contiguous();
        var labels = tensor(Enumerable.Range(0, count).Select(i => (long)(i % Classes)).ToArray());
        return new ImageSet(images, labels, Enumerable.Range(0, Classes).Select(c => $"c{c}").ToArray());
    }

    private static long[] Ids(ImageSet set) => Values(set.Images[.., 0, 0, 0]).Select(v => (long)v).ToArray();

    private static (long[] Train, long[] Validation, long[] ValidationLabels) Split(int images, long seed)
    {
        var (train, validation) = ValidationSplit.Apply(Indexed(), new ValidationSection { Images = images }, Run(seed: seed));
        return (Ids(train), Ids(validation), Values(validation.Labels).Select(v => (long)v).ToArray());
    }

    [Fact]
    public void The_split_is_class_balanced_disjoint_from_the_training_images_left_and_covers_the_set()
    {
        using var scope = NewDisposeScope();
        var (train, validation, labels) = Split(20, seed: 5);

        validation.Should().HaveCount(20).And.OnlyHaveUniqueItems();
        labels.GroupBy(l => l).Select(g => (g.Key, g.Count())).Should().BeEquivalentTo(Enumerable.Range(0, Classes).Select(c => ((long)c, 5)));
        labels.Should().Equal(validation.Select(i => i % Classes), "each image keeps its own label");
        train.Should().HaveCount(80).And.OnlyHaveUniqueItems().And.BeInAscendingOrder("the training images left keep their order");
        train.Intersect(validation).Should().BeEmpty("the algorithm never sees a validation image");
        train.Concat(validation).Order().Should().Equal(Enumerable.Range(0, Classes * PerClass).Select(i => (long)i));
    }

    [Fact]
    public void The_split_is_deterministic_per_seed_and_differs_between_seeds()
    {
        using var scope = NewDisposeScope();
        Split(20, seed: 5).Validation.Should().Equal(Split(20, seed: 5).Validation);
        Split(20, seed: 5).Validation.Should().NotEqual(Split(20, seed: 6).Validation);
    }

    [Theory]
    [InlineData(10, "a multiple of the 4 classes from 4 to 96 (24 per class")]
    [InlineData(100, "got 100 of 100 training images")]
    [InlineData(200, "from 4 to 96")]
    public void A_split_the_training_set_cannot_give_names_the_path_and_the_range_allowed(int images, string expected)
    {
        using var scope = NewDisposeScope();
        var act = () => ValidationSplit.Apply(Indexed(), new ValidationSection { Images = images }, Run());
        act.Should().Throw<DistilleryException>().Which.Message.Should().StartWith("validation.images: must be").And.Contain(expected);
    }

    [Fact]
    public void Figures_measured_on_the_split_are_named_validation_figures()
    {
        var named = ValidationSplit.NameFigures(new Dictionary<string, double>
        {
            ["testAccuracy"] = 0.9, ["testAccuracyStd"] = 0.01, ["testCount"] = 20, ["seeds"] = 3, ["tested"] = 1,
        });
        named.Keys.Should().BeEquivalentTo("validationAccuracy", "validationAccuracyStd", "validationCount", "seeds", "tested");
        named["validationAccuracy"].Should().Be(0.9);
    }

    [Theory]
    [InlineData(RunMetrics.Validation, RunMetrics.Validation)]
    [InlineData(null, RunMetrics.Test)] // metrics.json written before validation splits: scored on the test set
    public void Metrics_say_which_images_the_figures_were_measured_on(string? written, string read)
    {
        var path = Path.Combine(Path.GetTempPath(), $"distillery-metrics-{Guid.NewGuid():N}.json");
        try
        {
            var json = new RunMetrics(new Dictionary<string, IReadOnlyDictionary<string, double>>(), 1, 2, 3)
                { EvaluatedOn = written ?? RunMetrics.Test }.ToJson();
            json["evaluatedOn"]!.GetValue<string>().Should().Be(written ?? RunMetrics.Test);
            if (written is null) json.Remove("evaluatedOn");
            File.WriteAllText(path, json.ToJsonString());
            RunMetrics.Read(path).EvaluatedOn.Should().Be(read);

            json["evaluatedOn"] = "train";
            File.WriteAllText(path, json.ToJsonString());
            var act = () => RunMetrics.Read(path);
            act.Should().Throw<DataFormatException>().Which.Message.Should().Contain("'evaluatedOn' must be \"test\" or \"validation\"");
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static JsonObject Manifest(JsonNode? validation)
    {
        var manifest = JsonNode.Parse("""
            {
              "name": "validation-test",
              "dataset":    { "name": "fashion-mnist-sample" },
              "kernel":     { "name": "fc" },
              "algorithm":  { "name": "kip", "options": { "imagesPerClass": 1, "steps": 10 } },
              "evaluation": [ { "name": "krr" } ]
            }
            """)!.AsObject();
        manifest["validation"] = validation;
        return manifest;
    }

    [Fact]
    public void The_section_is_planned_and_resolved_only_when_present()
    {
        var plan = ExperimentPlanner.Plan(Manifest(JsonNode.Parse("""{ "images": 500 }""")), plugins.Catalog);
        plan.Manifest.Validation!.Images.Should().Be(500);
        plan.ToResolvedJson()["validation"]!["images"]!.GetValue<int>().Should().Be(500);

        var without = ExperimentPlanner.Plan(Manifest(null), plugins.Catalog);
        without.Manifest.Validation.Should().BeNull();
        without.ToResolvedJson().ContainsKey("validation").Should().BeFalse("a run without one keeps the resolved manifest it had");
    }

    [Theory]
    [InlineData("""{ "images": 0 }""", "validation.images: must be an integer ≥ 1")]
    [InlineData("""{ "images": 2.5 }""", "validation.images: must be an integer ≥ 1")]
    [InlineData("""{ "images": "500" }""", "validation.images: must be an integer ≥ 1")]
    [InlineData("""{ }""", "validation.images: required")]
    [InlineData("""{ "images": 10, "fraction": 0.1 }""", "validation.fraction: unknown field; allowed: images")]
    [InlineData("""500""", "validation: expected an object")]
    public void A_malformed_section_is_reported_with_its_path(string section, string expected)
    {
        var act = () => ExperimentPlanner.Plan(Manifest(JsonNode.Parse(section)), plugins.Catalog);
        act.Should().Throw<ManifestException>().Which.Problems.Should().Contain(p => p.StartsWith(expected));
    }
}
