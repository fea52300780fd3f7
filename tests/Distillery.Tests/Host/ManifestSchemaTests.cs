using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Engine.Manifests;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Json.Schema;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>
/// The manifest JSON Schema, checked with an independent validator (JsonSchema.Net): the shipped file is what
/// <c>distillery schema</c> writes, every shipped manifest passes, and every manifest mistake the validation tests
/// use fails — both in the schema and in the planner, so the two cannot drift apart.
/// </summary>
public sealed class ManifestSchemaTests(BundledPluginsFixture plugins) : IClassFixture<BundledPluginsFixture>
{
    private static readonly string ShippedSchemaPath = Path.Combine(DistilleryProcess.RepositoryRoot, "manifests", "distillery.schema.json");
    private static readonly Lazy<JsonSchema> Shipped = new(() => JsonSchema.FromText(File.ReadAllText(ShippedSchemaPath)));

    [Fact]
    public void The_shipped_schema_is_what_distillery_schema_writes()
    {
        var written = DistilleryProcess.Run(Path.GetTempPath(), "schema");

        written.ExitCode.Should().Be(0, written.ToString());
        written.Output.Should().Be(File.ReadAllText(ShippedSchemaPath),
            "regenerate it with: dotnet src/Host/bin/Debug/net10.0/distillery.dll schema --output manifests/distillery.schema.json");
        ManifestSchema.ToText(ManifestSchema.Generate(plugins.Catalog)).Should().Be(written.Output);
    }

    public static TheoryData<string> ShippedManifests => new(
        Directory.GetFiles(Path.Combine(DistilleryProcess.RepositoryRoot, "manifests"), "*.json")
            .Where(p => !p.EndsWith(".schema.json", StringComparison.Ordinal))
            .Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(ShippedManifests))]
    public void Every_shipped_manifest_names_the_schema_and_is_valid(string file)
    {
        var manifest = ManifestReader.Read(Path.Combine(DistilleryProcess.RepositoryRoot, "manifests", file));

        manifest["$schema"]!.GetValue<string>().Should().Be("./distillery.schema.json");
        Errors(manifest).Should().BeEmpty();
        ExperimentPlanner.Plan(manifest, plugins.Catalog).Should().NotBeNull("the planner ignores $schema");
    }

    [Fact]
    public void The_schema_describes_each_option_with_its_type_range_default_and_description()
    {
        var schema = JsonNode.Parse(File.ReadAllText(ShippedSchemaPath))!;

        schema["$schema"]!.GetValue<string>().Should().Be("https://json-schema.org/draft/2020-12/schema");
        var kip = schema["$defs"]!["algorithm"]!["oneOf"]!.AsArray().Single(b => b!["properties"]!["name"]!["const"]!.GetValue<string>() == "kip")!;
        var learningRate = kip["properties"]!["options"]!["properties"]!["learningRate"]!;
        learningRate["type"]!.GetValue<string>().Should().Be("number");
        learningRate["exclusiveMinimum"]!.GetValue<double>().Should().Be(0);
        learningRate["default"]!.GetValue<double>().Should().Be(0.04);
        learningRate["description"]!.GetValue<string>().Should().Be("Adam learning rate of the images and labels (at step 1, when learningRateSchedule is cosine).");
        var schedule = kip["properties"]!["options"]!["properties"]!["learningRateSchedule"]!;
        schedule["enum"]!.AsArray().Select(v => v!.GetValue<string>()).Should().Equal("constant", "cosine");
        schedule["default"]!.GetValue<string>().Should().Be("constant");
        var depth = schema["$defs"]!["kernel"]!["oneOf"]!.AsArray().Single(b => b!["title"]!.GetValue<string>() == "fc")!["properties"]!["options"]!["properties"]!["depth"]!;
        (depth["type"]!.GetValue<string>(), depth["minimum"]!.GetValue<int>(), depth["maximum"]!.GetValue<int>(), depth["default"]!.GetValue<int>())
            .Should().Be(("integer", 0, 64, 1));
        schema["$defs"]!["kernel"]!["oneOf"]!.AsArray().Select(b => b!["title"]!.GetValue<string>())
            .Should().Equal(plugins.Catalog.OfKind("kernel").Select(p => p.Name), "one branch per plugin, keyed on name");
    }

    /// <summary>
    /// The mistakes of the end-to-end validation tests. Three of them are facts about the data or the machine, not
    /// about the manifest — a class smaller than imagesPerClass, a dataset folder that does not exist, no CUDA — and
    /// no schema can see them: they pass the schema and are caught when the run starts.
    /// </summary>
    [Theory]
    [MemberData(nameof(BadInputTests.ManifestMistakes), MemberType = typeof(BadInputTests))]
    public void The_schema_rejects_every_manifest_mistake_of_the_validation_tests(string mistake, string[] overrides, string expected)
    {
        var manifest = RunFixtures.SmallKipManifest(steps: 3);
        ManifestOverrides.Apply(manifest, overrides);
        string[] seenOnlyByTheRun = ["more images per class than the class holds", "missing dataset folder", "cuda on a machine without CUDA",
                                     "a number beyond a double"]; // the last: JSON Schema has no "finite", and 1e400 is a valid JSON number

        if (seenOnlyByTheRun.Contains(mistake))
            Errors(manifest).Should().BeEmpty($"{mistake} ({expected}) depends on the data, the machine or the number type");
        else
            Errors(manifest).Should().NotBeEmpty(mistake);
    }

    /// <summary>The planner's own mistakes (ExperimentPlannerTests), each written as a change to a valid manifest.</summary>
    public static TheoryData<string, string> PlannerMistakes => new()
    {
        { "unknown top-level field", """{ "algoritm": {} }""" },
        { "unknown evaluator in a list", """{ "evaluation": [ { "name": "krr" }, { "name": "svm" } ] }""" },
        { "steps not an integer", """{ "algorithm": { "name": "kip", "options": { "steps": 1.5 } } }""" },
        { "steps as a string", """{ "algorithm": { "name": "kip", "options": { "steps": "10" } } }""" },
        { "steps null", """{ "algorithm": { "name": "kip", "options": { "steps": null } } }""" },
        { "learning rate as a string", """{ "algorithm": { "name": "kip", "options": { "learningRate": "0.1" } } }""" },
        { "boolean as a string", """{ "algorithm": { "name": "kip", "options": { "learnLabels": "yes" } } }""" },
        { "boolean as a number", """{ "algorithm": { "name": "kip", "options": { "learnLabels": 1 } } }""" },
        { "imagesPerClass below its range", """{ "algorithm": { "name": "kip", "options": { "imagesPerClass": 0 } } }""" },
        { "depth above its range", """{ "kernel": { "name": "fc", "options": { "depth": 65 } } }""" },
        { "enum value unknown", """{ "kernel": { "name": "fc", "options": { "output": "rbf" } } }""" },
        { "enum value as a number", """{ "kernel": { "name": "fc", "options": { "output": 1 } } }""" },
        { "dtype in capitals", """{ "dtype": "Float32" }""" },
        { "device gpu", """{ "device": "gpu" }""" },
        { "device cuda:", """{ "device": "cuda:" }""" },
        { "device cuda:x", """{ "device": "cuda:x" }""" },
        { "device CPU", """{ "device": "CPU" }""" },
        { "seed not an integer", """{ "seed": 1.5 }""" },
        { "section not an object", """{ "kernel": "fc" }""" },
        { "options not an object", """{ "kernel": { "name": "fc", "options": [1] } }""" },
        { "unknown field in a section", """{ "kernel": { "name": "fc", "option": {} } }""" },
        { "plugin name missing", """{ "algorithm": { "options": {} } }""" },
        { "unknown field in output", """{ "output": { "folder": "x" } }""" },
        { "tensorboard not a boolean", """{ "output": { "tensorboard": "yes" } }""" },
        { "required section missing", """{ "dataset": null }""" },
        { "name missing", """{ "name": null }""" },
    };

    [Theory]
    [MemberData(nameof(PlannerMistakes))]
    public void The_schema_and_the_planner_both_reject_the_planner_mistakes(string mistake, string change)
    {
        var manifest = AsRead(RunFixtures.SmallKipManifest(steps: 3));
        ExperimentPlanner.Plan(manifest, plugins.Catalog).Should().NotBeNull("the manifest is valid before the change");
        foreach (var (field, value) in JsonNode.Parse(change)!.AsObject().ToList())
            if (value is null) manifest.Remove(field); // null stands for "leave the field out"
            else manifest[field] = value.DeepClone();

        Errors(manifest).Should().NotBeEmpty(mistake);
        var plan = () => ExperimentPlanner.Plan(manifest, plugins.Catalog);
        plan.Should().Throw<ManifestException>(mistake).Which.Problems.Should().ContainSingle(mistake);
    }

    [Fact]
    public void A_valid_manifest_with_every_section_passes()
    {
        var manifest = AsRead(RunFixtures.SmallKipManifest(steps: 3));
        manifest["$schema"] = "./distillery.schema.json";
        manifest["output"] = new JsonObject { ["directory"] = "runs/x", ["tensorboard"] = false };
        manifest["evaluation"] = new JsonObject { ["name"] = "krr" }; // a single section stands for a list of one
        manifest["sweep"] = new JsonObject { ["seed"] = new JsonArray(0, 1) };

        Errors(manifest).Should().BeEmpty();
        ExperimentPlanner.Plan(AsRead(manifest), plugins.Catalog).Manifest.Output.TensorBoard.Should().BeFalse();
    }

    /// <summary>The manifest as the reader gives it (values parsed from text, as the planner expects them).</summary>
    private static JsonObject AsRead(JsonObject manifest) => JsonNode.Parse(manifest.ToJsonString())!.AsObject();

    private static IReadOnlyList<string> Errors(JsonObject manifest)
    {
        using var document = JsonDocument.Parse(manifest.ToJsonString());
        var result = Shipped.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        return result.IsValid
            ? []
            : (result.Details ?? []).Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).DefaultIfEmpty("invalid").ToList();
    }
}
