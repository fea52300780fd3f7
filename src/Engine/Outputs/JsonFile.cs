using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;

namespace Distillery.Engine.Outputs;

/// <summary>
/// Reads back the small JSON files a run writes (metrics.json, point.json, progress lines). They can be torn by a
/// crash or edited by hand, so every read is checked: a damaged file is a <see cref="DataFormatException"/> naming the
/// file and what is wrong, and typed values are taken only when they have the expected type. Messages give positions,
/// never the file's content.
/// </summary>
public static class JsonFile
{
    /// <summary>The largest such file read: 4 MiB (a metrics.json is under 1 KB); a larger one is refused unread.</summary>
    public const long MaxBytes = 4 << 20;

    /// <summary>The file's top-level object; <see cref="DataFormatException"/> when it is too large, not JSON or not an object.</summary>
    public static JsonObject ReadObject(string path)
    {
        string text;
        try
        {
            if (new FileInfo(path).Length > MaxBytes) throw new DataFormatException(path, $"larger than {MaxBytes >> 20} MiB; not read");
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot be read: {e.Message}");
        }
        return ParseObject(text) ?? throw new DataFormatException(path, "damaged: not a JSON object");
    }

    /// <summary>One JSON object from text (a file or a JSON line), or null when the text is not one.</summary>
    public static JsonObject? ParseObject(string text)
    {
        try { return JsonNode.Parse(text) as JsonObject; }
        catch (JsonException) { return null; }
    }

    /// <summary>The value as a long when it is an integral JSON number, else null.</summary>
    public static long? Long(JsonNode? node) => node is JsonValue value && value.TryGetValue<long>(out var result) ? result : null;

    /// <summary>The value as a double when it is a JSON number, else null.</summary>
    public static double? Double(JsonNode? node) => node is JsonValue value && value.TryGetValue<double>(out var result) ? result : null;

    /// <summary>The value when it is a JSON string, else null.</summary>
    public static string? String(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var result) ? result : null;
}
