using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Distillery.Engine.Manifests;

/// <summary>
/// Reads a manifest file, JSON (comments and trailing commas allowed) or YAML, into a JSON tree. Manifests may come
/// from untrusted hands (a queue's inbox), so reading is bounded: a file over <see cref="MaxBytes"/> is refused before
/// it is parsed, JSON nests at most 64 levels (System.Text.Json's default), and YAML at most
/// <see cref="YamlBudget.MaxDepth"/> levels and <see cref="YamlBudget.MaxNodes"/> nodes with every alias expanded.
/// </summary>
public static class ManifestReader
{
    /// <summary>The largest manifest read: 1 MiB, far above any real one (the largest shipped is under 2 KB).</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The manifest as a JSON object; <see cref="DistilleryException"/> naming the file and the problem otherwise.</summary>
    public static JsonObject Read(string path)
    {
        if (Directory.Exists(path)) throw new DistilleryException($"{path}: is a folder, not a manifest file");
        if (!File.Exists(path)) throw new DistilleryException($"{path}: manifest file not found");
        var text = ReadBounded(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        var root = extension is ".yaml" or ".yml" ? ParseYaml(text, path) : ParseJson(text, path);
        return root as JsonObject ?? throw new DistilleryException($"{path}: a manifest must be an object at the top level");
    }

    /// <summary>The file's text, refused before parsing when it holds more than <see cref="MaxBytes"/> bytes.</summary>
    private static string ReadBounded(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            // Read at most one byte past the limit: the length a file reports can change while it is read.
            var buffer = new byte[MaxBytes + 1];
            var length = 0;
            for (int read; length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0;) length += read;
            if (length > MaxBytes)
                throw new DistilleryException($"{path}: the manifest is larger than {MaxBytes / 1024} KiB, the most a manifest may hold; refused unread");
            return new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetString(buffer, 0, length).TrimStart('\uFEFF');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DistilleryException($"{path}: cannot be read: {e.Message}", e);
        }
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
            // Counted while parsing, so a "billion laughs" file is refused before any alias is expanded.
            stream.Load(new YamlBudget(parser, path));
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
