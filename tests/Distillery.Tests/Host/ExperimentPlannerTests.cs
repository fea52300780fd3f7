using System.Text.Json.Nodes;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;
using Distillery.Engine.Plugins;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

public sealed class ExperimentPlannerTests(BundledPluginsFixture plugins) : IClassFixture<BundledPluginsFixture>
{
    private readonly PluginCatalog _catalog = plugins.Catalog;

    private static JsonObject Valid() => JsonNode.Parse("""
        {
          "name": "plan-test",
          "seed": 7,
          "device": "cpu",
          "dtype": "float32",
          "dataset":    { "name": "fashion-mnist-sample" },
          "preprocess": [ { "name": "standardize" } ],
          "kernel":     { "name": "fc", "options": { "depth": 2 } },
          "algorithm":  { "name": "kip", "options": { "imagesPerClass": 1, "steps": 10 } },
          "evaluation": [ { "name": "krr" } ],
          "output":     { "directory": "runs/plan-test" }
        }
        """)!.AsObject();

    private IReadOnlyList<string> Problems(JsonObject manifest)
    {
        var act = () => ExperimentPlanner.Plan(manifest, _catalog);
        return act.Should().Throw<ManifestException>().Which.Problems;
    }

    private IReadOnlyList<string> Problems(Action<JsonObject> change)
    {
        var manifest = Valid();
        change(manifest);
        return Problems(manifest);
    }

    [Fact]
    public void The_bundled_catalog_loaded_cleanly()
    {
        _catalog.Problems.Should().BeEmpty();
    }

    [Fact]
    public void A_valid_manifest_resolves_every_plugin()
    {
        var plan = ExperimentPlanner.Plan(Valid(), _catalog);

        plan.Manifest.Name.Should().Be("plan-test");
        plan.Manifest.Seed.Should().Be(7);
        plan.Dataset.Plugin.Should().Match<PluginDescriptor>(p => p.Kind == PluginKinds.Dataset && p.Name == "fashion-mnist-sample");
        plan.Preprocess.Should().ContainSingle().Which.Plugin.Name.Should().Be("standardize");
        plan.Kernel!.Plugin.Name.Should().Be("fc");
        plan.Algorithm.Plugin.Name.Should().Be("kip");
        plan.Algorithm.ManifestPath.Should().Be("algorithm");
        plan.Evaluation.Should().ContainSingle().Which.ManifestPath.Should().Be("evaluation[0]");
        plan.Algorithm.Options.GetType().Should().Be(plan.Algorithm.Plugin.OptionsType);
        plan.Algorithm.Options.GetType().Name.Should().Be("KipOptions");
    }

    [Fact]
    public void The_resolved_manifest_contains_every_default()
    {
        var resolved = ExperimentPlanner.Plan(Valid(), _catalog).ToResolvedJson();

        var kip = resolved["algorithm"]!["options"]!;
        kip["imagesPerClass"]!.GetValue<int>().Should().Be(1, "given in the manifest");
        kip["steps"]!.GetValue<int>().Should().Be(10);
        kip["targetBatchSize"]!.GetValue<int>().Should().Be(5000, "a default");
        kip["learningRate"]!.GetValue<double>().Should().Be(0.04);
        kip["regularization"]!.GetValue<double>().Should().Be(1e-6);
        kip["learnLabels"]!.GetValue<bool>().Should().BeFalse();
        var fc = resolved["kernel"]!["options"]!;
        fc["depth"]!.GetValue<int>().Should().Be(2);
        fc["output"]!.GetValue<string>().Should().Be("ntk");
        fc["wStd"]!.GetValue<double>().Should().BeApproximately(Math.Sqrt(2), 1e-12);
        fc["bStd"]!.GetValue<double>().Should().Be(0.1);
        resolved["evaluation"]![0]!["options"]!["regularization"]!.GetValue<double>().Should().Be(1e-6);
        resolved["preprocess"]![0]!["name"]!.GetValue<string>().Should().Be("standardize");
        resolved["preprocess"]![0]!["options"]!.AsObject().Should().ContainKey("epsilon");
        resolved["dataset"]!["name"]!.GetValue<string>().Should().Be("fashion-mnist-sample");
        resolved["seed"]!.GetValue<long>().Should().Be(7);
        resolved["device"]!.GetValue<string>().Should().Be("cpu");
        resolved["output"]!["directory"]!.GetValue<string>().Should().Be("runs/plan-test");
    }

    [Fact]
    public void The_resolved_manifest_plans_to_the_same_resolved_manifest()
    {
        var once = ExperimentPlanner.Plan(Valid(), _catalog).ToResolvedJson();
        var twice = ExperimentPlanner.Plan(JsonNode.Parse(once.ToJsonString())!.AsObject(), _catalog).ToResolvedJson();

        JsonNode.DeepEquals(once, twice).Should().BeTrue();
    }

    [Fact]
    public void Option_names_match_case_insensitively_and_yaml_longs_bind_to_ints()
    {
        var manifest = Valid();
        manifest["algorithm"]!["options"] = new JsonObject { ["Steps"] = JsonValue.Create(25L), ["learningRate"] = JsonValue.Create(0.5) };

        var plan = ExperimentPlanner.Plan(manifest, _catalog);

        var options = plan.Algorithm.Options;
        options.GetType().GetProperty("Steps")!.GetValue(options).Should().Be(25);
        options.GetType().GetProperty("LearningRate")!.GetValue(options).Should().Be(0.5);
    }

    [Fact]
    public void Sections_are_optional_where_the_design_allows()
    {
        var manifest = Valid();
        manifest.Remove("kernel");
        manifest.Remove("preprocess");
        manifest.Remove("seed");
        manifest.Remove("device");
        manifest.Remove("dtype");
        manifest["evaluation"] = new JsonObject { ["name"] = "krr" }; // a single object is accepted for a list

        var plan = ExperimentPlanner.Plan(manifest, _catalog);

        plan.Kernel.Should().BeNull();
        plan.Preprocess.Should().BeEmpty();
        plan.Evaluation.Should().ContainSingle();
        plan.Manifest.Device.Should().Be("cpu");
        plan.Manifest.DType.Should().Be("float32");
        plan.ToResolvedJson().ContainsKey("kernel").Should().BeFalse();
    }

    [Fact]
    public void Unknown_top_level_field_lists_the_allowed_ones()
    {
        Problems(m => m["algoritm"] = new JsonObject()).Should().ContainSingle()
            .Which.Should().StartWith("algoritm: unknown field; allowed: ")
            .And.Contain("name").And.Contain("algorithm").And.Contain("evaluation").And.Contain("output");
    }

    [Fact]
    public void Unknown_plugin_name_lists_the_known_ones()
    {
        Problems(m => m["algorithm"]!["name"] = "kipp").Should()
            .Contain("algorithm.name: unknown algorithm 'kipp'; known algorithms: dc, dm, dsa, herding, kcenter, kip, label-solve, natural");
    }

    [Fact]
    public void Unknown_plugin_in_a_list_names_its_index()
    {
        var manifest = Valid();
        manifest["evaluation"]!.AsArray().Add(new JsonObject { ["name"] = "svm" });

        Problems(manifest).Should().ContainSingle().Which.Should().StartWith("evaluation[1].name: unknown evaluator 'svm'; known evaluators: krr");
    }

    [Fact]
    public void Unknown_option_lists_the_allowed_ones()
    {
        Problems(m => m["algorithm"]!["options"]!["stepz"] = 3).Should().ContainSingle()
            .Which.Should().Be("algorithm.options.stepz: unknown option; allowed: imagesPerClass, steps, learningRate, learningRateSchedule, " +
                               "targetBatchSize, regularization, loss, temperatureLearningRate, learnLabels, evaluationInterval, checkpointInterval");
    }

    [Fact]
    public void One_option_given_twice_in_different_case_is_refused_not_silently_overwritten()
    {
        Problems(m =>
        {
            m["algorithm"]!["options"]!["steps"] = 10;
            m["algorithm"]!["options"]!["Steps"] = 5;
        }).Should().ContainSingle().Which.Should().Be("algorithm.options.Steps: option steps is already given as 'steps'; give it once");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_required_option_left_out_or_empty_is_refused_before_the_run_saying_what_it_is(string? path)
    {
        // mnist's folder has no default (fashion-mnist's has: Debian's install folder), so the manifest must give it.
        Problems(m => m["dataset"] = path is null
                ? new JsonObject { ["name"] = "mnist" }
                : new JsonObject { ["name"] = "mnist", ["options"] = new JsonObject { ["path"] = path } })
            .Should().ContainSingle().Which.Should().StartWith("dataset.options.path: must be given (Folder holding train-images-idx3-ubyte, ");
        var fashion = Valid();
        fashion["dataset"] = new JsonObject { ["name"] = "fashion-mnist" };
        var act = () => ExperimentPlanner.Plan(fashion, _catalog);
        act.Should().NotThrow("a required option with a default need not be given");
        // Given empty, it is told how to get its default, not that it "must be given".
        fashion["dataset"]!["options"] = new JsonObject { ["path"] = "" };
        Problems(fashion).Should().Equal("dataset.options.path: must not be empty; leave it out for the default, /usr/share/datasets/fashion-mnist");
    }

    [Fact]
    public void A_required_option_of_the_wrong_type_gets_one_error_not_also_must_be_given()
    {
        Problems(m => m["dataset"] = new JsonObject { ["name"] = "mnist", ["options"] = new JsonObject { ["path"] = 5 } })
            .Should().Equal("dataset.options.path: expected a string, got 5");
    }

    [Fact]
    public void Wrong_option_type_says_what_was_expected()
    {
        Problems(m => m["algorithm"]!["options"]!["steps"] = "ten").Should()
            .Contain("algorithm.options.steps: expected an integer, got \"ten\"");
    }

    [Theory]
    [InlineData("steps", "1.5", "algorithm.options.steps: expected an integer, got 1.5")]
    [InlineData("steps", "\"10\"", "algorithm.options.steps: expected an integer, got \"10\"")]
    [InlineData("steps", "null", "algorithm.options.steps: expected an integer, got null")]
    [InlineData("learningRate", "\"0.1\"", "algorithm.options.learningRate: expected a number, got \"0.1\"")]
    [InlineData("learnLabels", "\"yes\"", "algorithm.options.learnLabels: expected true or false, got \"yes\"")]
    [InlineData("learnLabels", "1", "algorithm.options.learnLabels: expected true or false, got 1")]
    public void Values_of_the_wrong_kind_are_not_coerced(string option, string json, string problem)
    {
        Problems(m => m["algorithm"]!["options"]![option] = JsonNode.Parse(json)).Should().ContainSingle().Which.Should().Be(problem);
    }

    [Fact]
    public void Negative_learning_rate_names_the_range()
    {
        Problems(m => m["algorithm"]!["options"]!["learningRate"] = -1).Should().ContainSingle()
            .Which.Should().Be("algorithm.options.learningRate: must be > 0, got -1");
    }

    [Fact]
    public void Range_violations_give_the_bounds()
    {
        var problems = Problems(m =>
        {
            m["algorithm"]!["options"]!["imagesPerClass"] = 0;
            m["kernel"]!["options"]!["depth"] = 65;
        });

        problems.Should().Contain("algorithm.options.imagesPerClass: must be ≥ 1, got 0");
        problems.Should().Contain("kernel.options.depth: must be between 0 and 64, got 65");
    }

    [Theory]
    [InlineData("\"rbf\"")]
    [InlineData("1")]
    public void Enum_value_not_allowed_lists_the_choices(string json)
    {
        Problems(m => m["kernel"]!["options"]!["output"] = JsonNode.Parse(json)).Should().ContainSingle()
            .Which.Should().StartWith("kernel.options.output: expected one of ntk, nngp");
    }

    [Fact]
    public void Enum_value_is_bound_by_its_camel_case_name()
    {
        var manifest = Valid();
        manifest["kernel"]!["options"]!["output"] = "nngp";

        ExperimentPlanner.Plan(manifest, _catalog).ToResolvedJson()["kernel"]!["options"]!["output"]!.GetValue<string>().Should().Be("nngp");
    }

    [Theory]
    [InlineData("float16")]
    [InlineData("Float32")]
    public void Bad_dtype_lists_the_allowed_ones(string dtype)
    {
        Problems(m => m["dtype"] = dtype).Should().ContainSingle()
            .Which.Should().Be($"dtype: must be one of float32, float64, got \"{dtype}\"");
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:x")]
    [InlineData("CPU")]
    public void Bad_device_string_says_what_is_allowed(string device)
    {
        Problems(m => m["device"] = device).Should().ContainSingle()
            .Which.Should().Be($"device: must be cpu, cuda or cuda:N, got \"{device}\"");
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    public void Good_device_strings_are_accepted(string device)
    {
        var manifest = Valid();
        manifest["device"] = device;

        ExperimentPlanner.Plan(manifest, _catalog).Manifest.Device.Should().Be(device);
    }

    [Fact]
    public void Seed_must_be_an_integer()
    {
        Problems(m => m["seed"] = 1.5).Should().ContainSingle().Which.Should().Be("seed: expected an integer, got 1.5");
    }

    [Fact]
    public void Section_that_is_not_an_object_is_reported()
    {
        Problems(m => m["kernel"] = "fc").Should().ContainSingle()
            .Which.Should().StartWith("kernel: expected an object");
    }

    [Fact]
    public void Required_section_that_is_not_an_object_is_reported_once()
    {
        Problems(m => m["algorithm"] = "kip").Should().ContainSingle()
            .Which.Should().StartWith("algorithm: expected an object");
    }

    [Fact]
    public void Options_that_are_not_an_object_are_reported()
    {
        Problems(m => m["kernel"]!["options"] = new JsonArray(1)).Should().ContainSingle()
            .Which.Should().StartWith("kernel.options: expected an object");
    }

    [Fact]
    public void Unknown_field_in_a_section_is_reported()
    {
        Problems(m => m["kernel"]!["option"] = new JsonObject()).Should().ContainSingle()
            .Which.Should().Be("kernel.option: unknown field; allowed: name, version, options");
    }

    [Fact]
    public void Missing_plugin_name_is_reported_once()
    {
        Problems(m => m["algorithm"]!.AsObject().Remove("name")).Should().ContainSingle()
            .Which.Should().Be("algorithm.name: required");
    }

    [Fact]
    public void Missing_required_section_is_reported_once()
    {
        Problems(m => m.Remove("dataset")).Should().ContainSingle()
            .Which.Should().StartWith("dataset: required");
    }

    [Fact]
    public void Missing_manifest_name_is_reported()
    {
        Problems(m => m.Remove("name")).Should().ContainSingle().Which.Should().Be("name: required");
    }

    [Fact]
    public void Several_problems_are_all_reported_together()
    {
        var problems = Problems(m =>
        {
            m["device"] = "gpu";
            m["colour"] = "red";
            m["kernel"]!["options"]!["output"] = "rbf";
            m["algorithm"]!["options"]!["steps"] = "ten";
            m["algorithm"]!["options"]!["learningRate"] = -1;
            m["evaluation"]![0]!["name"] = "svm";
        });

        problems.Should().HaveCount(6);
        problems.Should().Contain(p => p.StartsWith("device: "));
        problems.Should().Contain(p => p.StartsWith("colour: unknown field"));
        problems.Should().Contain(p => p.StartsWith("kernel.options.output: "));
        problems.Should().Contain("algorithm.options.steps: expected an integer, got \"ten\"");
        problems.Should().Contain("algorithm.options.learningRate: must be > 0, got -1");
        problems.Should().Contain(p => p.StartsWith("evaluation[0].name: unknown evaluator 'svm'"));
    }

    [Fact]
    public void The_exception_message_has_one_problem_per_line()
    {
        var manifest = Valid();
        manifest["device"] = "gpu";
        manifest["dtype"] = "half";

        var act = () => ExperimentPlanner.Plan(manifest, _catalog);

        act.Should().Throw<ManifestException>().Which.Message.Split(Environment.NewLine).Should().HaveCount(2);
    }
}
