using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Distillery.Host.Manifests;

/// <summary>Reads a manifest file, JSON (comments and trailing commas allowed) or YAML, into a JSON tree.</summary>
public static class ManifestReader
{
    public static JsonObject Read(string path)
    {
        if (!File.Exists(path)) throw new DistilleryException($"{path}: manifest file not found");
        var text = File.ReadAllText(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        var root = extension is ".yaml" or ".yml" ? ParseYaml(text, path) : ParseJson(text, path);
        return root as JsonObject ?? throw new DistilleryException($"{path}: a manifest must be an object at the top level");
    }

    public static JsonNode? ParseJson(string text, string path)
    {
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new DistilleryException($"{path}: invalid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}");
        }
    }

    public static JsonNode? ParseYaml(string text, string path)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? new JsonObject() : ToJson(stream.Documents[0].RootNode);
        }
        catch (YamlException e)
        {
            throw new DistilleryException($"{path}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(pair =>
            KeyValuePair.Create(((YamlScalarNode)pair.Key).Value ?? "", ToJson(pair.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => ScalarToJson(scalar),
        _ => null,
    };

    /// <summary>Plain YAML scalars become numbers, booleans or null where they read as such; quoted ones stay strings.</summary>
    private static JsonNode? ScalarToJson(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted) return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return JsonValue.Create(integer);
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)) return JsonValue.Create(number);
        return JsonValue.Create(value);
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(" Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }
}
