using System.Text.Json.Nodes;
using Distillery.Engine.Plugins;
using Distillery.Tests.Host;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// Discovery as a user would use it: a third-party plugin project (tests/SamplePlugin) is built by the test into a
/// folder of its own, dropped next to a file that is not a .NET assembly, then found, listed and run.
/// </summary>
public sealed class PluginDiscoveryTests
{
    [Fact]
    public void A_plugin_built_into_a_folder_is_found_listed_and_run_while_a_broken_dll_is_reported()
    {
        using var scratch = new ScratchFolder();
        var pluginRoot = scratch.Combine("plugins");
        BuildSamplePlugin(Path.Combine(pluginRoot, "MeanImages"));
        File.WriteAllBytes(Path.Combine(pluginRoot, "Broken.dll"), "this is not a .NET assembly"u8.ToArray());

        var listed = DistilleryProcess.Run(scratch.Path, "plugins", "--kind", "algorithm", "--plugins", pluginRoot);
        listed.ExitCode.Should().Be(0, listed.ToString());
        listed.Output.Should().Contain("algorithm mean-images").And.Contain("poolSize").And.Contain("algorithm kip");
        listed.Error.Should().Contain("Broken.dll: not a .NET assembly");

        // The manifest schema covers plugins found through --plugins too.
        var schema = DistilleryProcess.Run(scratch.Path, "schema", "--plugins", pluginRoot);
        schema.ExitCode.Should().Be(0, schema.ToString());
        var meanImages = JsonNode.Parse(schema.Output)!["$defs"]!["algorithm"]!["oneOf"]!.AsArray()
            .Should().ContainSingle(b => b!["title"]!.GetValue<string>() == "mean-images").Which!;
        meanImages["properties"]!["options"]!["properties"]!.AsObject().Should().ContainKey("poolSize");

        var manifest = RunFixtures.SmallKipManifest();
        manifest["algorithm"] = new JsonObject { ["name"] = "mean-images", ["options"] = new JsonObject { ["imagesPerClass"] = 3, ["poolSize"] = 4 } };
        var run = DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, manifest), "--plugins", pluginRoot, "--output", scratch.Combine("run"));

        run.ExitCode.Should().Be(0, run.ToString());
        run.Error.Should().Contain("Broken.dll");
        RunFixtures.Metrics(scratch.Combine("run"))["supportSize"]!.GetValue<int>().Should().Be(30);
        RunFixtures.KrrAccuracy(scratch.Combine("run")).Should().BeGreaterThan(0.4);
    }

    [Fact]
    public void A_manifest_can_name_its_own_plugin_folder()
    {
        using var scratch = new ScratchFolder();
        BuildSamplePlugin(scratch.Combine("my-plugins", "MeanImages"));
        var manifest = RunFixtures.SmallKipManifest();
        manifest["plugins"] = new JsonArray("my-plugins");
        manifest["algorithm"] = new JsonObject { ["name"] = "mean-images", ["options"] = new JsonObject { ["imagesPerClass"] = 2 } };

        var result = DistilleryProcess.Run(scratch.Path, "validate", RunFixtures.Write(scratch.Path, manifest));

        result.ExitCode.Should().Be(0, result.ToString());
        result.Output.Should().Contain("\"poolSize\": 5");
    }

    [Fact]
    public void Plugins_listing_names_a_plugin_built_against_newer_contracts_in_one_line_and_lists_the_others()
    {
        using var scratch = new ScratchFolder();
        var pluginRoot = scratch.Combine("plugins");
        var served = ContractVersions.Host.Abstractions;
        var newer = new Version(served.Major, served.Minor + 1, 0, 0);
        var refused = ContractBoundPlugin.Write(pluginRoot, "Acme.NewerContracts", "linear-newer", abstractions: newer);
        ContractBoundPlugin.Write(Path.Combine(pluginRoot, "Linear"), "Acme.Linear", "linear");

        var listed = DistilleryProcess.Run(scratch.Path, "plugins", "--kind", "kernel", "--plugins", pluginRoot);

        listed.ExitCode.Should().Be(0, listed.ToString());
        listed.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            $"warning: plugin skipped: {refused}: Acme.NewerContracts is built against Distillery.Abstractions {newer.ToString(2)}, " +
            $"this host serves {served.ToString(2)}; rebuild the plugin against {served.ToString(2)} (or use a host that serves {newer.ToString(2)})");
        listed.Output.Should().Contain("kernel linear (version 1) —").And.Contain("kernel fc (version 1) —").And.NotContain("linear-newer");

        // A manifest that names the skipped plugin is refused, and the warning that explains why comes first.
        var manifest = RunFixtures.SmallKipManifest();
        manifest["kernel"] = new System.Text.Json.Nodes.JsonObject { ["name"] = "linear-newer" };
        var validated = DistilleryProcess.Run(scratch.Path, "validate", RunFixtures.Write(scratch.Path, manifest), "--plugins", pluginRoot);
        validated.ExitCode.Should().Be(2, validated.ToString());
        var lines = validated.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(2);
        lines[0].Should().StartWith($"warning: plugin skipped: {refused}: ");
        lines[1].Should().StartWith("error: kernel.name: unknown kernel 'linear-newer'");
    }

    private static void BuildSamplePlugin(string outputFolder) => TestPlugins.Build("SamplePlugin", outputFolder);
}
