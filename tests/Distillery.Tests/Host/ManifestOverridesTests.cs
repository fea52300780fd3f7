using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Manifests;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

public sealed class ManifestOverridesTests
{
    private static JsonObject Manifest() => JsonNode.Parse("""
        {
          "name": "m",
          "algorithm": { "name": "kip", "options": { "steps": 1000 } },
          "evaluation": [ { "name": "krr" } ]
        }
        """)!.AsObject();

    [Fact]
    public void Sets_a_nested_path_creating_missing_objects()
    {
        var manifest = Manifest();

        ManifestOverrides.Apply(manifest, ["kernel.options.depth=3", "algorithm.options.steps=10"]);

        manifest["kernel"]!["options"]!["depth"]!.GetValue<int>().Should().Be(3);
        manifest["algorithm"]!["options"]!["steps"]!.GetValue<int>().Should().Be(10);
        manifest["algorithm"]!["name"]!.GetValue<string>().Should().Be("kip", "siblings are untouched");
    }

    [Theory]
    [InlineData("x=10", JsonValueKind.Number, "10")]
    [InlineData("x=-0.5", JsonValueKind.Number, "-0.5")]
    [InlineData("x=1e-6", JsonValueKind.Number, "1e-6")]
    [InlineData("x=true", JsonValueKind.True, "true")]
    [InlineData("x=false", JsonValueKind.False, "false")]
    [InlineData("x=fashion-mnist", JsonValueKind.String, "\"fashion-mnist\"")]
    [InlineData("x=\"10\"", JsonValueKind.String, "\"10\"")]
    [InlineData("x=cuda:0", JsonValueKind.String, "\"cuda:0\"")]
    [InlineData("x=a=b", JsonValueKind.String, "\"a=b\"")]
    [InlineData("x=", JsonValueKind.String, "\"\"")]
    [InlineData("x={\"depth\":2}", JsonValueKind.Object, "{\"depth\":2}")]
    [InlineData("x=[1,2]", JsonValueKind.Array, "[1,2]")]
    public void Values_are_read_as_json_when_they_parse_and_as_strings_otherwise(string assignment, JsonValueKind kind, string json)
    {
        var manifest = Manifest();

        ManifestOverrides.Apply(manifest, [assignment]);

        manifest["x"]!.GetValueKind().Should().Be(kind);
        manifest["x"]!.ToJsonString().Should().Be(json);
    }

    [Theory]
    [InlineData("evaluation.0.name=other")]
    [InlineData("evaluation[0].name=other")]
    public void Array_entries_are_indexed_by_number(string assignment)
    {
        var manifest = Manifest();

        ManifestOverrides.Apply(manifest, [assignment, "evaluation[0].options.blockSize=100"]);

        manifest["evaluation"]!.AsArray().Should().HaveCount(1);
        manifest["evaluation"]![0]!["name"]!.GetValue<string>().Should().Be("other");
        manifest["evaluation"]![0]!["options"]!["blockSize"]!.GetValue<int>().Should().Be(100);
    }

    [Fact]
    public void An_array_entry_can_be_replaced_whole()
    {
        var manifest = Manifest();

        ManifestOverrides.Apply(manifest, ["evaluation.0={\"name\":\"a\"}"]);

        manifest["evaluation"]![0]!["name"]!.GetValue<string>().Should().Be("a");
    }

    [Theory]
    [InlineData("evaluation.1.name=x")]
    [InlineData("evaluation[5].name=x")]
    [InlineData("evaluation.-1.name=x")]
    public void Indexing_past_the_end_is_an_error(string assignment)
    {
        var act = () => ManifestOverrides.Apply(Manifest(), [assignment]);

        act.Should().Throw<DistilleryException>().Which.Message
            .Should().Contain("out of range").And.Contain("'evaluation' has 1 entries");
    }

    [Fact]
    public void Setting_inside_a_scalar_is_an_error()
    {
        var act = () => ManifestOverrides.Apply(Manifest(), ["algorithm.options.steps.value=3"]);

        act.Should().Throw<DistilleryException>().Which.Message
            .Should().Contain("'algorithm.options.steps' is a single value").And.Contain("'value'");
    }

    [Fact]
    public void A_name_on_an_array_is_an_error()
    {
        var act = () => ManifestOverrides.Apply(Manifest(), ["evaluation.name=krr"]);

        act.Should().Throw<DistilleryException>().Which.Message.Should().Contain("'evaluation' is an array");
    }

    [Theory]
    [InlineData("steps")]
    [InlineData("=10")]
    public void An_assignment_without_a_path_is_an_error(string assignment)
    {
        var act = () => ManifestOverrides.Apply(Manifest(), [assignment]);

        act.Should().Throw<DistilleryException>().Which.Message.Should().Contain("expected path=value");
    }
}
