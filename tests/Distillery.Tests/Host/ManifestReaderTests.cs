using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Manifests;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

public sealed class ManifestReaderTests : IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private const string JsonManifest = """
        {
          // a line comment
          "name": "fmnist-kip-fc-10",
          "seed": 3,
          "device": "cpu",
          "dataset": { "name": "fashion-mnist", "options": { "path": "/data/fmnist", "trainLimit": 100, } },
          /* a block comment */
          "preprocess": [ { "name": "standardize" }, ],
          "kernel": { "name": "fc", "options": { "depth": 2, "wStd": 1.5, "bStd": 0.1, "output": "ntk" } },
          "algorithm": { "name": "kip", "options": { "steps": 10, "learningRate": 0.04, "regularization": 1e-6, "learnLabels": true } },
          "evaluation": [ { "name": "krr" } ],
          "output": { "directory": "runs/x" },
          "description": "123",
        }
        """;

    private const string YamlManifest = """
        # the same manifest in YAML
        name: fmnist-kip-fc-10
        seed: 3
        device: cpu
        dataset:
          name: fashion-mnist
          options:
            path: /data/fmnist
            trainLimit: 100
        preprocess:
          - name: standardize
        kernel:
          name: fc
          options: { depth: 2, wStd: 1.5, bStd: 0.1, output: ntk }
        algorithm:
          name: kip
          options:
            steps: 10
            learningRate: 0.04
            regularization: 1e-6
            learnLabels: true
        evaluation:
          - name: krr
        output:
          directory: "runs/x"
        description: "123"
        """;

    private string WriteFile(string name, string text)
    {
        var path = _temp.File(name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Json_with_comments_and_trailing_commas_is_read()
    {
        var json = ManifestReader.Read(WriteFile("m.json", JsonManifest));

        json["name"]!.GetValue<string>().Should().Be("fmnist-kip-fc-10");
        json["seed"]!.GetValue<int>().Should().Be(3);
        json["dataset"]!["options"]!["trainLimit"]!.GetValue<int>().Should().Be(100);
        json["preprocess"]!.AsArray().Should().HaveCount(1);
        json["algorithm"]!["options"]!["learnLabels"]!.GetValueKind().Should().Be(JsonValueKind.True);
    }

    [Theory]
    [InlineData("m.yaml")]
    [InlineData("m.yml")]
    [InlineData("M.YAML")]
    public void Yaml_gives_the_same_tree_as_json(string fileName)
    {
        var fromJson = ManifestReader.Read(WriteFile("m.json", JsonManifest));
        var fromYaml = ManifestReader.Read(WriteFile(fileName, YamlManifest));

        JsonNode.DeepEquals(fromJson, fromYaml).Should().BeTrue(
            $"YAML {fromYaml.ToJsonString()} should equal JSON {fromJson.ToJsonString()}");
        // Kinds matter, not only text: numbers stay numbers, quoted numbers stay strings, booleans are booleans.
        fromYaml["seed"]!.GetValueKind().Should().Be(JsonValueKind.Number);
        fromYaml["kernel"]!["options"]!["wStd"]!.GetValueKind().Should().Be(JsonValueKind.Number);
        fromYaml["algorithm"]!["options"]!["regularization"]!.GetValue<double>().Should().Be(1e-6);
        fromYaml["algorithm"]!["options"]!["learnLabels"]!.GetValueKind().Should().Be(JsonValueKind.True);
        fromYaml["description"]!.GetValueKind().Should().Be(JsonValueKind.String);
        fromYaml["description"]!.GetValue<string>().Should().Be("123");
        fromYaml["kernel"]!["options"]!["output"]!.GetValue<string>().Should().Be("ntk");
    }

    [Fact]
    public void Yaml_scalars_are_typed_like_json_values()
    {
        var json = ManifestReader.Read(WriteFile("s.yaml", """
            int: 42
            negative: -7
            float: 0.5
            yes: true
            no: False
            nothing: null
            tilde: ~
            quotedTrue: "true"
            singleQuoted: '10'
            word: hello
            """));

        json["int"]!.GetValue<long>().Should().Be(42);
        json["negative"]!.GetValue<long>().Should().Be(-7);
        json["float"]!.GetValue<double>().Should().Be(0.5);
        json["yes"]!.GetValueKind().Should().Be(JsonValueKind.True);
        json["no"]!.GetValueKind().Should().Be(JsonValueKind.False);
        json.ContainsKey("nothing").Should().BeTrue();
        json["nothing"].Should().BeNull();
        json["tilde"].Should().BeNull();
        json["quotedTrue"]!.GetValueKind().Should().Be(JsonValueKind.String);
        json["singleQuoted"]!.GetValue<string>().Should().Be("10");
        json["word"]!.GetValue<string>().Should().Be("hello");
    }

    [Fact]
    public void Invalid_json_names_the_file_and_line()
    {
        var path = WriteFile("bad.json", "{\n  \"name\": \"x\",\n  \"seed\": ,\n}\n");

        var act = () => ManifestReader.Read(path);

        var error = act.Should().Throw<DistilleryException>().Which;
        error.Message.Should().StartWith(path).And.Contain("invalid JSON").And.Contain("line 3");
    }

    [Theory]
    [InlineData("name: x\nseed: 1\ndataset: [unclosed, \nalgorithm: kip\n", 3)]
    [InlineData("name: x\nkernel:\n  name: fc\n  options: { depth: 1\n", 4)]
    [InlineData("name: x\nseed: 1\nname: y\n", 3)]
    [InlineData("name: x\n\tseed: 1\n", 1)]
    [InlineData("name: 'unterminated\n", 1)]
    public void Invalid_yaml_names_the_file_and_line(string text, int line)
    {
        var path = WriteFile("bad.yaml", text);

        var act = () => ManifestReader.Read(path);

        var error = act.Should().Throw<DistilleryException>().Which;
        error.Message.Should().StartWith(path).And.Contain("invalid YAML").And.MatchRegex($"line [{line}-{line + 1}]");
    }

    [Fact]
    public void Duplicate_json_keys_are_an_input_error()
    {
        var path = WriteFile("dup.json", "{ \"name\": \"a\",\n  \"name\": \"b\" }");

        var act = () => ManifestReader.Read(path);

        act.Should().Throw<DistilleryException>().Which.Message.Should().StartWith(path)
            .And.Contain("invalid JSON").And.Contain("'name'").And.NotContain("line ,");
    }

    [Fact]
    public void Yaml_error_reports_the_line_of_the_mistake()
    {
        var path = WriteFile("tab.yaml", "name: x\nseed: 1\nkernel:\n  name: fc\n   depth: 2\n");

        var act = () => ManifestReader.Read(path);

        act.Should().Throw<DistilleryException>().Which.Message.Should().StartWith(path).And.Contain("line 5");
    }

    [Fact]
    public void Missing_file_is_a_user_error_naming_the_path()
    {
        var path = _temp.File("nope.json");

        var act = () => ManifestReader.Read(path);

        act.Should().Throw<DistilleryException>().Which.Message.Should().Contain(path).And.Contain("not found");
    }

    [Theory]
    [InlineData("a.json", "[1, 2]")]
    [InlineData("a.json", "null")]
    [InlineData("a.yaml", "- 1\n- 2\n")]
    [InlineData("a.yaml", "just a scalar")]
    public void A_manifest_must_be_an_object(string name, string text)
    {
        var path = WriteFile(name, text);

        var act = () => ManifestReader.Read(path);

        act.Should().Throw<DistilleryException>().Which.Message.Should().StartWith(path).And.Contain("object");
    }

    [Fact]
    public void Empty_yaml_file_is_an_empty_manifest()
    {
        ManifestReader.Read(WriteFile("empty.yaml", "")).Should().BeEmpty();
    }
}
