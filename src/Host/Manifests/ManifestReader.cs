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
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            var at = e.LineNumber is { } line ? $" at line {line + 1}, position {e.BytePositionInLine + 1}" : ""; // none for a duplicate key
            throw new DistilleryException($"{path}: invalid JSON{at}: {FirstSentence(e.Message)}");
        }
    }

    public static JsonNode? ParseYaml(string text, string path)
    {
        var parser = new Parser(new StringReader(text));
        try
        {
            var stream = new YamlStream();
            stream.Load(parser);
            return stream.Documents.Count == 0 ? new JsonObject() : ToJson(stream.Documents[0].RootNode);
        }
        catch (YamlException e)
        {
            throw new DistilleryException($"{path}: invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, without a position, on some malformed input (e.g. an unclosed "[").
            var near = parser.Current?.Start;
            throw new DistilleryException($"{path}: invalid YAML near line {near?.Line ?? 1}, column {near?.Column ?? 1}: malformed flow collection or scalar");
        }
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode mapping => new JsonObject(mapping.Children.Select(pair =>
            KeyValuePair.Create(KeyName(pair.Key), ToJson(pair.Value)))),
        YamlSequenceNode sequence => new JsonArray(sequence.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => ScalarToJson(scalar),
        _ => null,
    };

    private static string KeyName(YamlNode key) => key is YamlScalarNode { Value: { } name }
        ? name
        : throw new YamlException(key.Start, key.End, "a mapping key must be a plain name, not a list or mapping");

    /// <summary>Plain YAML scalars become numbers, booleans or null where they read as such; quoted ones stay strings.</summary>
    private static JsonNode? ScalarToJson(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted) return JsonValue.Create(value);
        if (value is "" or "~" or "null" or "Null" or "NULL") return null;
        if (value is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (value is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer)) return JsonValue.Create(integer);
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)) return JsonValue.Create(number);
        return JsonValue.Create(value);
    }

    private static string FirstSentence(string message)
    {
        var end = message.IndexOf(" Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }
}
