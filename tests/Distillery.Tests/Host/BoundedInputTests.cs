using System.Diagnostics;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Manifests;
using Distillery.Engine.Security;
using Distillery.Engine.Sweeps;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>Untrusted manifests: names that would become paths, and files built to exhaust memory or time.</summary>
public sealed class BoundedInputTests : IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("fmnist-kip-fc-10", null)]
    [InlineData("<img src=x onerror=alert(1)>", null)] // harmless as a file name; the status page shows it as text
    [InlineData("a..b", null)]
    [InlineData("", "is empty")]
    [InlineData(".", "relative folder reference")]
    [InlineData("..", "relative folder reference")]
    [InlineData("../../x", "path separator")]
    [InlineData("/etc", "path separator")]
    [InlineData("a\\b", "path separator")]
    [InlineData("a\nb", "control character")]
    [InlineData("a\u001b[2Jb", "control character")]
    [InlineData("a\0b", "control character")]
    public void A_name_used_as_a_path_is_one_plain_name(string name, string? problem)
    {
        if (problem is null) PathNames.Problem(name).Should().BeNull();
        else PathNames.Problem(name).Should().Contain(problem);
    }

    [Fact]
    public void A_refused_name_is_quoted_with_its_control_characters_escaped()
    {
        var act = () => PathNames.Require("x\ny", "queue item");
        act.Should().Throw<DistilleryException>().WithMessage("queue item: \"x\\u000Ay\" is not usable as a folder name: it contains a control character*");
        var tooLong = () => PathNames.Require(new string('a', 201), "name");
        tooLong.Should().Throw<DistilleryException>().WithMessage("*is 201 characters long; at most 200 are allowed*");
    }

    [Fact]
    public void The_billion_laughs_is_refused_while_parsing_in_little_time_and_memory()
    {
        var path = _temp.File("bomb.yaml");
        File.WriteAllText(path, FailurePathTests.BillionLaughs);
        var clock = Stopwatch.StartNew();
        var allocated = GC.GetAllocatedBytesForCurrentThread();

        var act = () => ManifestReader.Read(path);

        act.Should().Throw<DistilleryException>().WithMessage("*bomb.yaml: YAML has more than 100,000 nodes with its aliases expanded*");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(1));
        (GC.GetAllocatedBytesForCurrentThread() - allocated).Should().BeLessThan(100L << 20, "the aliases are counted, never expanded");
    }

    [Fact]
    public void Aliases_within_the_budget_still_expand()
    {
        var path = _temp.File("aliases.yaml");
        File.WriteAllText(path, """
            name: with-aliases
            defaults: &kip { steps: 10, learningRate: 0.04 }
            algorithm: { name: kip, options: *kip }
            grid: &g [1, 2, 3]
            sweep: { seed: *g }
            """);

        var json = ManifestReader.Read(path);

        json["algorithm"]!["options"]!["steps"]!.GetValue<long>().Should().Be(10);
        json["sweep"]!["seed"]!.AsArray().Select(v => v!.GetValue<long>()).Should().Equal(1, 2, 3);
    }

    [Fact]
    public void The_node_count_is_exact_at_the_limit()
    {
        // A list of n scalars is n + 2 nodes (the mapping, the list, the scalars) plus the key: n + 3.
        string ListOf(long n) => "x: [" + string.Join(",", Enumerable.Repeat("1", (int)n)) + "]";
        var atLimit = _temp.File("at.yaml");
        File.WriteAllText(atLimit, ListOf(YamlBudget.MaxNodes - 3));
        ManifestReader.Read(atLimit)["x"]!.AsArray().Should().HaveCount((int)YamlBudget.MaxNodes - 3);

        var over = _temp.File("over.yaml");
        File.WriteAllText(over, ListOf(YamlBudget.MaxNodes - 2));
        var act = () => ManifestReader.Read(over);
        act.Should().Throw<DistilleryException>().WithMessage("*more than 100,000 nodes*");
    }

    [Fact]
    public void Deep_nesting_and_oversized_files_are_refused()
    {
        var deep = _temp.File("deep.yaml");
        File.WriteAllText(deep, "x: " + new string('[', 65) + new string(']', 65));
        var act = () => ManifestReader.Read(deep);
        act.Should().Throw<DistilleryException>().WithMessage("*YAML nested more than 64 levels deep*");

        var big = _temp.File("big.json");
        File.WriteAllText(big, "{\"name\":\"" + new string('x', ManifestReader.MaxBytes) + "\"}");
        act = () => ManifestReader.Read(big);
        act.Should().Throw<DistilleryException>().WithMessage("*big.json: the manifest is larger than 1024 KiB*");
    }

    [Fact]
    public void A_sweep_is_refused_when_its_grid_passes_the_limit_before_it_is_expanded()
    {
        var manifest = new JsonObject
        {
            ["name"] = "s",
            ["sweep"] = new JsonObject(Enumerable.Range(0, 20).Select(i => KeyValuePair.Create($"k{i}",
                (JsonNode?)new JsonArray(Enumerable.Range(0, 10).Select(v => (JsonNode)v).ToArray())))),
        };

        var act = () => SweepExpander.Expand(manifest);

        act.Should().Throw<DistilleryException>().WithMessage("sweep: the grid has more than 10,000 points*");
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("a/b")]
    [InlineData("")]
    public void A_sweep_key_must_be_a_manifest_path(string key)
    {
        var manifest = new JsonObject { ["name"] = "s", ["sweep"] = new JsonObject { [key] = new JsonArray(1, 2) } };

        var act = () => SweepExpander.Expand(manifest);

        act.Should().Throw<DistilleryException>().WithMessage("sweep: key * is not a manifest path*");
    }
}
