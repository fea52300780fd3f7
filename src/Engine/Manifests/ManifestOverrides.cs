using System.Text.Json.Nodes;
using Distillery.Abstractions;

namespace Distillery.Engine.Manifests;

/// <summary>
/// Applies <c>--set path=value</c> overrides to a manifest tree. Path segments are object keys or array
/// indices (<c>evaluation.0.name</c> or <c>evaluation[0].name</c>); the value is read as JSON when it parses
/// (numbers, booleans, objects) and as a string otherwise. Missing objects along the path are created.
/// </summary>
public static class ManifestOverrides
{
    public static void Apply(JsonObject manifest, IEnumerable<string> assignments)
    {
        foreach (var assignment in assignments) ApplyOne(manifest, assignment);
    }

    private static void ApplyOne(JsonObject manifest, string assignment)
    {
        var equals = assignment.IndexOf('=');
        if (equals <= 0) throw new DistilleryException($"--set {assignment}: expected path=value, e.g. algorithm.options.steps=10");
        var path = assignment[..equals].Trim();
        var segments = Segments(path);
        if (segments.Length == 0) throw new DistilleryException($"--set {assignment}: '{path}' names no field; expected path=value, e.g. algorithm.options.steps=10");
        var value = ParseValue(assignment[(equals + 1)..]);

        JsonNode current = manifest;
        for (var i = 0; i < segments.Length; i++)
        {
            var last = i == segments.Length - 1;
            var segment = segments[i];
            var here = string.Join('.', segments[..(i + 1)]);
            switch (current)
            {
                case JsonObject obj when last:
                    obj[segment] = value;
                    break;
                case JsonObject obj:
                    if (obj[segment] is null) obj[segment] = new JsonObject();
                    current = obj[segment]!;
                    break;
                case JsonArray array when int.TryParse(segment, out var index):
                    if (index < 0 || index >= array.Count)
                        throw new DistilleryException($"--set {path}: index {index} is out of range; '{string.Join('.', segments[..i])}' has {array.Count} entries");
                    if (last) array[index] = value;
                    else current = array[index] ?? throw new DistilleryException($"--set {path}: '{here}' is null");
                    break;
                default:
                    throw new DistilleryException($"--set {path}: '{string.Join('.', segments[..i])}' is {Describe(current)}, so '{segment}' cannot be set inside it");
            }
        }
    }

    /// <summary>True when <paramref name="path"/> names at least one field: <c>seed</c>, <c>algorithm.options.steps</c>, <c>evaluation[0].name</c>.</summary>
    public static bool IsPath(string path)
    {
        var segments = Segments(path);
        return segments.Length > 0 && segments.All(s => s.All(c => char.IsLetterOrDigit(c) || c is '_' or '-'));
    }

    private static string[] Segments(string path) =>
        path.Replace("[", ".").Replace("]", "").Split('.', StringSplitOptions.RemoveEmptyEntries);

    private static JsonNode? ParseValue(string text)
    {
        try { return JsonNode.Parse(text); }
        catch (System.Text.Json.JsonException) { return JsonValue.Create(text); }
    }

    private static string Describe(JsonNode node) => node switch
    {
        JsonArray => "an array (use a number to index it)",
        JsonValue => "a single value",
        _ => "not an object",
    };
}
