using System.Composition;
using System.Composition.Hosting;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Engine.Manifests;
using Distillery.Engine.Plugins;
using Distillery.Engine.Runs;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>
/// What the host owns about plugins: the manifest path of an option a plugin complains about, evaluation ids, plugin
/// versions, and the fingerprint that decides whether a run folder holds the experiment asked for.
/// </summary>
public sealed class HostIdentityTests(BundledPluginsFixture plugins) : IClassFixture<BundledPluginsFixture>
{
    private static JsonObject Manifest() => JsonNode.Parse("""
        {
          "name": "identity-test",
          "seed": 7,
          "dataset":    { "name": "fashion-mnist-sample" },
          "preprocess": [ { "name": "standardize" } ],
          "kernel":     { "name": "fc", "options": { "depth": 2 } },
          "algorithm":  { "name": "kip", "options": { "imagesPerClass": 1, "steps": 300 } },
          "evaluation": [ { "name": "krr" }, { "name": "transfer", "options": { "network": "fc" } } ]
        }
        """)!.AsObject();

    private ExperimentPlan Plan(JsonObject manifest) => ExperimentPlanner.Plan(manifest, plugins.Catalog);

    private IReadOnlyList<string> Problems(Action<JsonObject> change)
    {
        var manifest = Manifest();
        change(manifest);
        return FluentActions.Invoking(() => Plan(manifest)).Should().Throw<ManifestException>().Which.Problems;
    }

    /// <summary>A run folder's resolved manifest as this host writes it, then changed as an older host or an edit would have.</summary>
    private static JsonObject Resolved(ExperimentPlan plan, Action<JsonObject> change)
    {
        var resolved = plan.ToResolvedJson();
        change(resolved);
        return resolved;
    }

    // ---- errors: the plugin names the option, the host the section ----------------------------------------------

    [Fact]
    public void An_option_exception_is_reported_under_the_manifest_path_of_the_section_that_configured_the_plugin()
    {
        var plan = Plan(Manifest());
        var transfer = plan.Evaluation[1];

        var act = () => transfer.Call(() => throw new OptionException("Depth", "5 pooling blocks shrink the image to nothing; use fewer"));

        var error = act.Should().Throw<DistilleryException>().Which;
        error.Should().NotBeOfType<OptionException>("the host's error is final: an enclosing call must not prefix it again");
        error.Message.Should().Be("evaluation[1].options.depth: 5 pooling blocks shrink the image to nothing; use fewer");
        plan.Preprocess[0].Invoking(p => p.Call(() => throw new OptionException("epsilon", "is 0")))
            .Should().Throw<DistilleryException>().WithMessage("preprocess[0].options.epsilon: is 0");
        plan.Algorithm.Invoking(p => p.Call(() => throw new InvalidOperationException("not an input error")))
            .Should().Throw<InvalidOperationException>("other exceptions pass unchanged");
    }

    [Fact]
    public void A_plugin_context_names_options_under_its_section_and_without_one_under_options()
    {
        var context = new RunContext { Device = TorchSharp.torch.CPU, DType = TorchSharp.torch.ScalarType.Float32, Seed = 0,
                                       Logger = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, ManifestSection = "evaluation[1]" };

        context.OptionPath("LearningRate").Should().Be("evaluation[1].options.learningRate");
        new OptionException("LearningRate", "too large").Message.Should().Be("options.learningRate: too large", "outside the host it still names the option");
    }

    // ---- evaluation ids -------------------------------------------------------------------------------------------

    [Fact]
    public void An_evaluation_id_defaults_to_the_plugin_name_and_is_written_into_the_resolved_manifest_with_every_version()
    {
        var plan = Plan(Manifest().Also(m => m["evaluation"]![1]!["id"] = "transfer-fc"));

        plan.Evaluation.Select(e => e.Id).Should().Equal("krr", "transfer-fc");
        var resolved = plan.ToResolvedJson();
        resolved["evaluation"]![0]!["id"]!.GetValue<string>().Should().Be("krr");
        resolved["evaluation"]![1]!["id"]!.GetValue<string>().Should().Be("transfer-fc");
        foreach (var section in new[] { "dataset", "kernel", "algorithm" })
            resolved[section]!["version"]!.GetValue<string>().Should().Be(PluginVersions.Default, section);
        // The resolved manifest is itself a valid manifest: ids and versions read back.
        Plan(resolved).Evaluation.Select(e => e.Id).Should().Equal("krr", "transfer-fc");
    }

    [Fact]
    public void Two_entries_with_one_id_are_refused_naming_the_later_entry_and_the_earlier_one()
    {
        Problems(m => m["evaluation"]!.AsArray().Add(new JsonObject { ["name"] = "transfer" }))
            .Should().ContainSingle().Which.Should().StartWith("evaluation[2].id: \"transfer\" is already the id of evaluation[1]");
        Problems(m => m["evaluation"]![1]!["id"] = "krr")
            .Should().ContainSingle().Which.Should().StartWith("evaluation[1].id: \"krr\" is already the id of evaluation[0]");
    }

    [Theory]
    [InlineData("transfer.d2")]
    [InlineData("../x")]
    [InlineData("-lead")]
    [InlineData("a b")]
    [InlineData("")]
    [InlineData("ok\n")]
    public void An_id_that_cannot_name_figures_or_files_is_refused(string id)
    {
        Problems(m => m["evaluation"]![1]!["id"] = id)
            .Should().ContainSingle().Which.Should().StartWith("evaluation[1].id: ").And.Contain(ExperimentPlanner.IdRule);
    }

    [Fact]
    public void Only_evaluation_entries_take_an_id_and_a_stated_version_must_be_the_loaded_one()
    {
        Problems(m => m["algorithm"]!["id"] = "kip2").Should().ContainSingle()
            .Which.Should().Be("algorithm.id: unknown field; allowed: name, version, options");
        Problems(m => m["algorithm"]!["version"] = "2").Should().ContainSingle()
            .Which.Should().StartWith("algorithm.version: the manifest asks for version 2 of algorithm 'kip', but the one loaded").And.Contain("is version 1");
    }

    // ---- plugin versions --------------------------------------------------------------------------------------------

    [ExportAlgorithm("unversioned")]
    public sealed class Unversioned : IDistillationAlgorithm<NoOptions>
    {
        public Abstractions.Data.SupportSet Distill(DistillationContext run, NoOptions options) => throw new NotSupportedException();
    }

    [ExportAlgorithm("versioned", Version = "2")]
    public sealed class Versioned : IDistillationAlgorithm<NoOptions>
    {
        public Abstractions.Data.SupportSet Distill(DistillationContext run, NoOptions options) => throw new NotSupportedException();
    }

    [Fact]
    public void The_export_attribute_s_version_reaches_the_metadata_with_the_documented_default()
    {
        using var container = new ContainerConfiguration().WithParts(typeof(Unversioned), typeof(Versioned)).CreateContainer();

        var versions = container.GetExports<ExportFactory<IAlgorithm, PluginMetadata>>().ToDictionary(f => f.Metadata.Name, f => f.Metadata.Version);

        versions.Should().Equal(new Dictionary<string, string> { ["unversioned"] = "1", ["versioned"] = "2" });
        plugins.Catalog.Plugins.Should().OnlyContain(p => p.Version == PluginVersions.Default, "no bundled plugin has changed its results yet");
    }

    // ---- the fingerprint of a run folder ------------------------------------------------------------------------------

    [Fact]
    public void A_folder_written_before_an_option_versions_and_ids_existed_is_the_same_experiment()
    {
        var plan = Plan(Manifest());
        var old = Resolved(plan, r =>
        {
            r["kernel"]!["options"]!.AsObject().Remove("blockSize"); // the option came later, with a default
            foreach (var section in new[] { r["dataset"], r["kernel"], r["algorithm"], r["preprocess"]![0], r["evaluation"]![0], r["evaluation"]![1] })
                section!.AsObject().Remove("version");
            foreach (var entry in r["evaluation"]!.AsArray()) entry!.AsObject().Remove("id");
            r["output"] = new JsonObject { ["directory"] = "/somewhere/else" };
        });

        ExperimentFingerprint.Of(old, plan).FirstDifference(ExperimentFingerprint.Of(plan)).Should().BeNull();
    }

    [Fact]
    public void A_changed_option_is_named_with_both_values()
    {
        var folder = Plan(Manifest());
        var wanted = Plan(Manifest().Also(m => m["algorithm"]!["options"]!["steps"] = 400));

        ExperimentFingerprint.Of(folder.ToResolvedJson(), wanted).FirstDifference(ExperimentFingerprint.Of(wanted))
            .Should().Be("algorithm.options.steps: folder has 300, manifest has 400");
    }

    [Fact]
    public void An_option_the_plugin_no_longer_has_is_a_difference_that_says_so()
    {
        var plan = Plan(Manifest());
        var old = Resolved(plan, r => r["kernel"]!["options"]!["dropout"] = 0.5);

        ExperimentFingerprint.Of(old, plan).FirstDifference(ExperimentFingerprint.Of(plan))
            .Should().Be("kernel.options.dropout: folder has 0.5, but kernel 'fc' has no such option any more");
    }

    [Fact]
    public void A_plugin_whose_version_was_bumped_makes_a_different_experiment()
    {
        var folder = Plan(Manifest());
        var bumped = folder with { Algorithm = folder.Algorithm with { Plugin = folder.Algorithm.Plugin with { Version = "2" } } };

        ExperimentFingerprint.Of(folder.ToResolvedJson(), bumped).FirstDifference(ExperimentFingerprint.Of(bumped))
            .Should().Be("algorithm.version: folder has \"1\", manifest has \"2\"");
    }

    [Fact]
    public void A_difference_in_evaluation_only_is_told_apart_from_one_in_the_distillation()
    {
        var folder = Plan(Manifest());
        var wanted = Plan(Manifest().Also(m => m["evaluation"]![1]!["options"]!["width"] = 64));
        var (held, asked) = (ExperimentFingerprint.Of(folder.ToResolvedJson(), wanted), ExperimentFingerprint.Of(wanted));

        held.FirstDifference(asked).Should().Be("evaluation[1].options.width: folder has null, manifest has 64");
        held.FirstDifference(asked, "evaluation").Should().BeNull();
    }
}

/// <summary>A fluent edit for test manifests.</summary>
internal static class JsonObjectEdits
{
    public static JsonObject Also(this JsonObject json, Action<JsonObject> change)
    {
        change(json);
        return json;
    }
}
