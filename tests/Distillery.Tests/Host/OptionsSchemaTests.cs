using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Nodes;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

public enum SampleMode { Fast, VerySlow }

public sealed class SampleKipOptions
{
    [Range(1, int.MaxValue), Description("Support images per class.")]
    public int ImagesPerClass { get; set; } = 10;

    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("Adam learning rate.")]
    public double LearningRate { get; set; } = 0.04;

    [Range(0, 64), Description("Hidden layers.")]
    public int Depth { get; init; } = 1;

    [Range(0.0, 1.0, MinimumIsExclusive = true, MaximumIsExclusive = true)]
    public double Fraction { get; set; } = 0.5;

    [Description("Also learn the labels.")]
    public bool LearnLabels { get; set; }

    public SampleMode Mode { get; set; } = SampleMode.VerySlow;

    public string? Path { get; set; }

    public long? Limit { get; set; }

    public int[] Sizes { get; set; } = [1, 2];

    public double Regularization { get; set; } = 1e-6;

    /// <summary>Not settable: not an option.</summary>
    public int Computed => ImagesPerClass * 2;

    public int PrivateSetter { get; private set; }
}

public sealed class CrossCheckedOptions : IValidatableOptions
{
    public int Low { get; set; } = 1;
    public int High { get; set; } = 2;

    public IEnumerable<(string Option, string Message)> Validate()
    {
        if (High < Low) yield return (nameof(High), $"must be ≥ low ({Low})");
    }
}

public sealed class OptionsSchemaTests
{
    private static OptionInfo Option(string name) =>
        OptionsSchema.Describe(typeof(SampleKipOptions)).Single(o => o.Name == name);

    [Fact]
    public void Lists_settable_public_properties_in_camel_case_in_declaration_order()
    {
        OptionsSchema.Describe(typeof(SampleKipOptions)).Select(o => o.Name).Should().Equal(
            "imagesPerClass", "learningRate", "depth", "fraction", "learnLabels", "mode", "path", "limit", "sizes", "regularization");
    }

    [Theory]
    [InlineData("imagesPerClass", "integer", "10", "Support images per class.", "must be ≥ 1")]
    [InlineData("learningRate", "number", "0.04", "Adam learning rate.", "must be > 0")]
    [InlineData("depth", "integer", "1", "Hidden layers.", "must be between 0 and 64")]
    [InlineData("fraction", "number", "0.5", "", "must be between 0 and 1 (exclusive)")]
    [InlineData("learnLabels", "true or false", "false", "Also learn the labels.", null)]
    [InlineData("mode", "one of fast, verySlow", "verySlow", "", null)]
    [InlineData("path", "string", "null", "", null)]
    [InlineData("limit", "integer or null", "null", "", null)]
    [InlineData("regularization", "number", "1E-06", "", null)]
    public void Describes_type_default_description_and_range(string name, string type, string @default, string description, string? constraint)
    {
        var option = Option(name);

        option.Type.Should().Be(type);
        option.Default.Should().Be(@default);
        option.Description.Should().Be(description);
        option.Constraint.Should().Be(constraint);
    }

    [Fact]
    public void Collections_are_arrays_with_their_default_on_one_line()
    {
        var option = Option("sizes");

        option.Type.Should().Be("array");
        option.Default.Should().MatchRegex(@"^\[\s*1,\s*2\s*\]$");
    }

    [Fact]
    public void ToJson_writes_every_option_with_enum_names_in_camel_case()
    {
        var json = OptionsSchema.ToJson(new SampleKipOptions { LearnLabels = true });

        json.Select(p => p.Key).Should().Contain(["imagesPerClass", "learningRate", "mode", "learnLabels"]);
        json["mode"]!.GetValue<string>().Should().Be("verySlow");
        json["learnLabels"]!.GetValue<bool>().Should().BeTrue();
        json["regularization"]!.GetValue<double>().Should().Be(1e-6);
    }

    [Fact]
    public void Binder_sets_given_values_and_keeps_defaults_for_the_rest()
    {
        var problems = new List<string>();
        var json = JsonNode.Parse("""{ "depth": 3, "mode": "fast", "limit": null, "path": "/data", "sizes": [4] }""")!.AsObject();

        var options = (SampleKipOptions)OptionsBinder.Bind(typeof(SampleKipOptions), json, "x.options", problems);

        problems.Should().BeEmpty();
        options.Depth.Should().Be(3, "init-only properties bind too");
        options.Mode.Should().Be(SampleMode.Fast);
        options.Limit.Should().BeNull();
        options.Path.Should().Be("/data");
        options.Sizes.Should().Equal(4);
        options.ImagesPerClass.Should().Be(10);
    }

    [Fact]
    public void Binder_reports_range_violations_with_the_range_text()
    {
        var problems = new List<string>();
        var json = JsonNode.Parse("""{ "fraction": 1.0, "depth": -1 }""")!.AsObject();

        OptionsBinder.Bind(typeof(SampleKipOptions), json, "p.options", problems);

        problems.Should().BeEquivalentTo(
            "p.options.fraction: must be between 0 and 1 (exclusive), got 1",
            "p.options.depth: must be between 0 and 64, got -1");
    }

    [Fact]
    public void Binder_reports_cross_field_problems_under_the_camel_case_name()
    {
        var problems = new List<string>();

        OptionsBinder.Bind(typeof(CrossCheckedOptions), JsonNode.Parse("""{ "low": 5, "high": 3 }""")!.AsObject(), "a.options", problems);

        problems.Should().Equal("a.options.high: must be ≥ low (5)");
    }

    [Fact]
    public void Binder_on_a_plugin_without_options_says_so()
    {
        var problems = new List<string>();

        OptionsBinder.Bind(typeof(NoOptions), JsonNode.Parse("""{ "x": 1 }""")!.AsObject(), "preprocess[0].options", problems);

        problems.Should().Equal("preprocess[0].options.x: unknown option; this plugin takes no options");
    }
}
