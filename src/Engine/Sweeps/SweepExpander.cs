using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Engine.Manifests;
using Distillery.Engine.Security;

namespace Distillery.Engine.Sweeps;

/// <summary>One point of a sweep: its folder name, the values it sets, and the manifest with them applied.</summary>
public sealed record SweepPoint(string Name, IReadOnlyList<KeyValuePair<string, JsonNode?>> Values, JsonObject Manifest)
{
    /// <summary>The values that define a configuration: everything but the seed, which results average over.</summary>
    public IEnumerable<KeyValuePair<string, JsonNode?>> Configuration => Values.Where(v => !SweepExpander.IsSeed(v.Key));
}

/// <summary>
/// Expands a manifest's <c>sweep</c> into its points: an object mapping manifest paths to lists of values is a grid of
/// every combination (the last path varies fastest); a list of such objects is the union of their grids. A manifest
/// without a sweep is a single point.
/// </summary>
public static class SweepExpander
{
    public const string SweepField = "sweep";

    /// <summary>
    /// The most points a sweep may expand to: a grid multiplies, so a small file could otherwise ask for more
    /// points than memory holds (ten axes of ten values are 10^10).
    /// </summary>
    public const long MaxPoints = 10_000;

    /// <summary>What one grid must look like, for the errors that find something else.</summary>
    private const string GridShape = "an object mapping manifest paths to lists of values, e.g. { \"seed\": [0, 1, 2] }";

    public static bool IsSeed(string path) => path == "seed" || path.EndsWith(".seed", StringComparison.Ordinal);

    /// <summary>
    /// The points of <paramref name="manifest"/>'s sweep, in order: one grid, or the union of a list of grids (for
    /// example every seed at 1 and 10 images per class, and one seed at 50).
    /// </summary>
    /// <exception cref="DistilleryException">The sweep is malformed (the message names its path), two grids share a
    /// point, or the grids expand to more than <see cref="MaxPoints"/> points.</exception>
    public static IReadOnlyList<SweepPoint> Expand(JsonObject manifest)
    {
        var grids = manifest[SweepField] switch
        {
            null => null,
            JsonObject grid => [(grid, SweepField)],
            JsonArray list when list.Count > 0 => list.Select((grid, i) => (grid as JsonObject
                ?? throw new DistilleryException($"{SweepField}[{i}]: expected {GridShape}"), $"{SweepField}[{i}]")).ToList(),
            _ => throw new DistilleryException(
                $"{SweepField}: expected {GridShape}, or a non-empty list of such objects"),
        };
        if (grids is null) return [new SweepPoint("", [], manifest)];

        var points = new List<SweepPoint>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (grid, location) in grids)
            foreach (var point in ExpandGrid(manifest, grid, location, MaxPoints - points.Count))
            {
                if (!names.Add(point.Name))
                    throw new DistilleryException($"{location}: point {point.Name} is already in an earlier grid of the sweep; each point may appear once");
                points.Add(point);
            }
        return points;
    }

    /// <summary>Every combination of one grid's values (the last path varies fastest), at most <paramref name="room"/> of them.</summary>
    private static List<SweepPoint> ExpandGrid(JsonObject manifest, JsonObject sweep, string location, long room)
    {
        if (sweep.Count == 0)
            throw new DistilleryException($"{location}: expected {GridShape}");

        var axes = new List<(string Path, JsonNode?[] Values)>();
        foreach (var (path, values) in sweep)
        {
            if (values is not JsonArray list || list.Count == 0)
                throw new DistilleryException($"{location}.{path}: expected a non-empty list of values, got {values?.ToJsonString() ?? "null"}");
            if (path == SweepField || path.StartsWith(SweepField + ".", StringComparison.Ordinal))
                throw new DistilleryException($"{location}.{path}: a sweep cannot vary itself");
            if (!ManifestOverrides.IsPath(path))
                throw new DistilleryException($"{location}: key {PathNames.Quote(path)} is not a manifest path; write field names separated by dots, e.g. algorithm.options.steps");
            axes.Add((path, list.Select(v => v?.DeepClone()).ToArray()));
        }
        var count = axes.Aggregate(1L, (product, axis) => product > room ? product : product * axis.Values.Length);
        if (count > room)
            throw new DistilleryException($"{location}: the grid has more than {MaxPoints:N0} points{(room < MaxPoints ? " with the earlier grids" : "")} ({string.Join(" × ", axes.Select(a => a.Values.Length))}); split it into several manifests");

        var points = new List<SweepPoint>();
        foreach (var combination in Combinations(axes.Select(a => a.Values.Length).ToArray()))
        {
            var values = axes.Select((axis, i) => KeyValuePair.Create(axis.Path, axis.Values[combination[i]])).ToList();
            var pointManifest = (JsonObject)manifest.DeepClone();
            pointManifest.Remove(SweepField);
            ManifestOverrides.Apply(pointManifest, values.Select(v => $"{v.Key}={v.Value?.ToJsonString() ?? "null"}"));
            var name = PathNames.Require(NameOf(values, axes.Select(a => a.Path).ToList()), "sweep point");
            points.Add(new SweepPoint(name, values, pointManifest));
        }
        return points;
    }

    /// <summary>A folder-safe name: each axis as lastSegment-value, joined by underscores.</summary>
    private static string NameOf(IEnumerable<KeyValuePair<string, JsonNode?>> values, IReadOnlyList<string> paths)
    {
        string Short(string path)
        {
            var last = path.Split('.', '[', ']').Last(s => s.Length > 0);
            return paths.Count(p => p.Split('.', '[', ']').Last(s => s.Length > 0) == last) > 1 ? path : last;
        }
        var name = string.Join("_", values.Select(v => $"{Short(v.Key)}-{Display(v.Value)}"));
        return new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
    }

    /// <summary>A swept value as people write it: strings bare, anything else as JSON.</summary>
    public static string Display(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var text) ? text : value?.ToJsonString() ?? "null";

    private static IEnumerable<int[]> Combinations(int[] sizes)
    {
        var index = new int[sizes.Length];
        while (true)
        {
            yield return (int[])index.Clone();
            var axis = sizes.Length - 1;
            while (axis >= 0 && ++index[axis] == sizes[axis]) index[axis--] = 0;
            if (axis < 0) yield break;
        }
    }
}
