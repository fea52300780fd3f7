using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Distillery.Abstractions.Manifests;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Plugins;
using Distillery.Engine.Security;

namespace Distillery.Engine.Manifests;

/// <summary>
/// Turns a manifest tree into an <see cref="ExperimentPlan"/>: checks every field, resolves every plugin in the
/// catalog and binds its options. All problems are collected and reported together, each with its path.
/// </summary>
public static partial class ExperimentPlanner
{
    /// <summary>The manifest's top-level fields, in the order error messages list them.</summary>
    public static IReadOnlyList<string> TopLevelFields { get; } =
        ["name", "description", "seed", "device", "dtype", "dataset", "preprocess", "kernel", "algorithm", "evaluation", "validation", "output", "plugins", "sweep", SchemaField];

    /// <summary>Names the manifest's JSON Schema for editors (see <see cref="ManifestSchema"/>); read by nothing else.</summary>
    public const string SchemaField = "$schema";

    /// <summary>The fields of the <c>output</c> section.</summary>
    public static IReadOnlyList<string> OutputFields { get; } = ["directory", "tensorboard"];

    /// <summary>The fields of the <c>validation</c> section.</summary>
    public static IReadOnlyList<string> ValidationFields { get; } = ["images"];

    /// <summary>The allowed <c>dtype</c> values.</summary>
    public static IReadOnlyList<string> DTypes { get; } = ["float32", "float64"];

    /// <summary>The allowed <c>device</c> strings, as a regular expression (also written into the JSON Schema).</summary>
    public const string DevicePatternText = @"^(cpu|cuda(:[0-9]+)?)$";

    [GeneratedRegex(DevicePatternText)]
    private static partial Regex DevicePattern();

    /// <summary>The whole string matches (.NET's <c>$</c> also matches before a final newline, ECMAScript's does not).</summary>
    private static bool IsDevice(string device) => DevicePattern().Match(device) is { Success: true } match && match.Length == device.Length;

    /// <summary>The basic fields only (no plugins): enough to find extra plugin folders before the catalog loads.</summary>
    public static ExperimentManifest ReadManifest(JsonObject json)
    {
        var problems = new List<string>();
        var manifest = ReadManifest(json, problems);
        if (problems.Count > 0) throw new ManifestException(problems);
        return manifest;
    }

    public static ExperimentPlan Plan(JsonObject json, PluginCatalog catalog)
    {
        var problems = new List<string>();
        var manifest = ReadManifest(json, problems);

        PluginChoice? Resolve(PluginSection? section, string kind, string path)
        {
            if (section is null || ReferenceEquals(section, Placeholder)) return null; // already reported as missing or malformed
            var plugin = catalog.Find(kind, section.Name);
            if (plugin is null)
            {
                problems.Add(catalog.UnknownPlugin($"{path}.name", kind, section.Name).Message);
                return null;
            }
            if (section.Version is { } version && version != plugin.Version)
                problems.Add($"{path}.version: the manifest asks for version {version} of {kind} '{plugin.Name}', but the one loaded " +
                             $"(from {plugin.SourcePath}) is version {plugin.Version}; remove \"version\" to run this one, or load that version");
            var options = OptionsBinder.Bind(plugin.OptionsType, section.Options, $"{path}.options", problems);
            return new PluginChoice(plugin, options, path, section.Id ?? plugin.Name);
        }

        var dataset = Resolve(manifest.Dataset, PluginKinds.Dataset, "dataset");
        var preprocess = manifest.Preprocess.Select((p, i) => Resolve(p, PluginKinds.Preprocessor, $"preprocess[{i}]")).ToList();
        var kernel = Resolve(manifest.Kernel, PluginKinds.Kernel, "kernel");
        var algorithm = Resolve(manifest.Algorithm, PluginKinds.Algorithm, "algorithm");
        var evaluation = manifest.Evaluation.Select((p, i) => Resolve(p, PluginKinds.Evaluator, $"evaluation[{i}]")).ToList();
        RequireDistinctIds(evaluation, problems);

        if (problems.Count > 0) throw new ManifestException(problems);
        return new ExperimentPlan(manifest, dataset!, preprocess!, kernel, algorithm!, evaluation!);
    }

    /// <summary>
    /// What an evaluation entry's <c>id</c> may be: it names the entry's figures (<c>&lt;id&gt;.testAccuracy</c> in
    /// metrics.json, progress.jsonl, TensorBoard tags, results tables and <c>collect --figures</c>), so no dot, and it
    /// stays a safe file-name part: a letter or digit, then letters, digits, <c>-</c> and <c>_</c>, at most 64 characters.
    /// </summary>
    public const string IdPatternText = "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$";

    /// <summary>The rule of <see cref="IdPatternText"/> in words, for error messages and the schema.</summary>
    public const string IdRule = "a letter or digit, then letters, digits, '-' and '_', at most 64 characters";

    [GeneratedRegex(IdPatternText)]
    private static partial Regex IdPattern();

    /// <summary>The whole string matches (see <see cref="IsDevice"/>).</summary>
    private static bool IsId(string id) => IdPattern().Match(id) is { Success: true } match && match.Length == id.Length;

    /// <summary>Two evaluation entries with one id (given, or defaulting to the plugin name) would write one set of figures over the other.</summary>
    private static void RequireDistinctIds(IReadOnlyList<PluginChoice?> evaluation, List<string> problems)
    {
        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var choice in evaluation.OfType<PluginChoice>())
        {
            if (first.TryAdd(choice.Id, choice.ManifestPath)) continue;
            problems.Add($"{choice.ManifestPath}.id: \"{choice.Id}\" is already the id of {first[choice.Id]}{(choice.Id == choice.Plugin.Name ? " (without an \"id\", an entry's id is its plugin's name)" : "")}; " +
                         $"give each entry its own \"id\" ({IdRule}), e.g. \"{choice.Plugin.Name}-2\"");
        }
    }

    private static ExperimentManifest ReadManifest(JsonObject json, List<string> problems)
    {
        foreach (var (key, _) in json)
            if (!TopLevelFields.Contains(key))
                problems.Add($"{key}: unknown field; allowed: {string.Join(", ", TopLevelFields)}");

        var name = ReadString(json, "name", problems, required: true) ?? "experiment";
        // The name becomes a folder (runs/<name>, task's <results>/<name>): it must not climb out of it.
        if (PathNames.Check(name, "name") is { } badName) problems.Add(badName);
        var device = ReadString(json, "device", problems) ?? "cpu";
        if (!IsDevice(device)) problems.Add($"device: must be cpu, cuda or cuda:N, got \"{device}\"");
        var dtype = ReadString(json, "dtype", problems) ?? "float32";
        if (!DTypes.Contains(dtype)) problems.Add($"dtype: must be one of {string.Join(", ", DTypes)}, got \"{dtype}\"");

        return new ExperimentManifest
        {
            Name = name,
            Seed = ReadSeed(json, problems),
            Device = device,
            DType = dtype,
            Dataset = ReadSection(json["dataset"], "dataset", problems, required: true) ?? Placeholder,
            Preprocess = ReadSections(json["preprocess"], "preprocess", problems),
            Kernel = ReadSection(json["kernel"], "kernel", problems, required: false),
            Algorithm = ReadSection(json["algorithm"], "algorithm", problems, required: true) ?? Placeholder,
            Evaluation = ReadSections(json["evaluation"], "evaluation", problems, identified: true),
            Validation = ReadValidation(json["validation"], problems),
            Output = ReadOutput(json["output"], problems),
            Plugins = ReadStrings(json["plugins"], "plugins", problems),
        };
    }

    private static readonly PluginSection Placeholder = new() { Name = "" };

    private static long ReadSeed(JsonObject json, List<string> problems)
    {
        var node = json["seed"];
        if (node is null) return 0;
        if (node.GetValueKind() == JsonValueKind.Number && node.AsValue().TryGetValue<long>(out var seed)) return seed;
        problems.Add($"seed: expected an integer, got {node.ToJsonString()}");
        return 0;
    }

    private static string? ReadString(JsonObject json, string key, List<string> problems, bool required = false, string? path = null)
    {
        path ??= key;
        var node = json[key];
        if (node is null)
        {
            if (required) problems.Add($"{path}: required");
            return null;
        }
        if (node.GetValueKind() == JsonValueKind.String) return node.GetValue<string>();
        problems.Add($"{path}: expected a string, got {node.ToJsonString()}");
        return null;
    }

    /// <param name="identified">An evaluation entry, which may carry an <c>id</c> (see <see cref="IdPatternText"/>).</param>
    private static PluginSection? ReadSection(JsonNode? node, string path, List<string> problems, bool required, bool identified = false)
    {
        if (node is null)
        {
            if (required) problems.Add($"{path}: required, e.g. {{ \"name\": \"...\", \"options\": {{ }} }}");
            return null;
        }
        if (node is not JsonObject section)
        {
            problems.Add($"{path}: expected an object {{ \"name\": ..., \"options\": {{...}} }}, got {node.ToJsonString()}");
            return null;
        }
        string[] fields = identified ? ["id", "name", "version", "options"] : ["name", "version", "options"];
        foreach (var (key, _) in section)
            if (!fields.Contains(key))
                problems.Add($"{path}.{key}: unknown field; allowed: {string.Join(", ", fields)}");
        var name = ReadString(section, "name", problems, required: true, path: $"{path}.name");
        var id = identified ? ReadString(section, "id", problems, path: $"{path}.id") : null;
        if (id is not null && !IsId(id))
        {
            problems.Add($"{path}.id: {PathNames.Quote(id)} cannot be an id: use {IdRule}; it names the entry's figures (<id>.testAccuracy)");
            id = null;
        }
        var version = ReadString(section, "version", problems, path: $"{path}.version");
        var options = section["options"];
        if (options is not null and not JsonObject)
        {
            problems.Add($"{path}.options: expected an object, got {options.ToJsonString()}");
            options = null;
        }
        return name is null ? null : new PluginSection { Name = name, Id = id, Version = version, Options = (JsonObject?)options?.DeepClone() ?? new JsonObject() };
    }

    private static IReadOnlyList<PluginSection> ReadSections(JsonNode? node, string path, List<string> problems, bool identified = false)
    {
        if (node is null) return [];
        if (node is JsonObject) return ReadSection(node, path, problems, required: true, identified) is { } single ? [single] : [];
        if (node is not JsonArray array)
        {
            problems.Add($"{path}: expected an array of {{ \"name\": ... }} objects, got {node.ToJsonString()}");
            return [];
        }
        return array.Select((item, i) => ReadSection(item, $"{path}[{i}]", problems, required: true, identified))
            .Where(s => s is not null).Select(s => s!).ToList();
    }

    private static OutputSection ReadOutput(JsonNode? node, List<string> problems)
    {
        if (node is null) return new OutputSection();
        if (node is not JsonObject output)
        {
            problems.Add($"output: expected an object {{ \"directory\": ... }}, got {node.ToJsonString()}");
            return new OutputSection();
        }
        foreach (var (key, _) in output)
            if (!OutputFields.Contains(key)) problems.Add($"output.{key}: unknown field; allowed: {string.Join(", ", OutputFields)}");
        var tensorBoard = output["tensorboard"];
        if (tensorBoard is not null && tensorBoard.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            problems.Add($"output.tensorboard: expected true or false, got {tensorBoard.ToJsonString()}");
        return new OutputSection
        {
            Directory = ReadString(output, "directory", problems, path: "output.directory"),
            TensorBoard = tensorBoard?.GetValueKind() != JsonValueKind.False,
        };
    }

    /// <summary>
    /// The validation split's size; here only what needs no data (an integer ≥ 1): whether the training set can spare
    /// that many, evenly over its classes, is checked once it is loaded (<see cref="Runs.ValidationSplit"/>).
    /// </summary>
    private static ValidationSection? ReadValidation(JsonNode? node, List<string> problems)
    {
        if (node is null) return null;
        if (node is not JsonObject validation)
        {
            problems.Add($"validation: expected an object {{ \"images\": N }}, got {node.ToJsonString()}");
            return null;
        }
        foreach (var (key, _) in validation)
            if (!ValidationFields.Contains(key)) problems.Add($"validation.{key}: unknown field; allowed: {string.Join(", ", ValidationFields)}");
        var images = validation["images"];
        if (images is null)
        {
            problems.Add("validation.images: required, the number of training images to hold out (a multiple of the class count)");
            return null;
        }
        if (images.GetValueKind() != JsonValueKind.Number || !images.AsValue().TryGetValue<int>(out var count) || count < 1)
        {
            problems.Add($"validation.images: must be an integer ≥ 1 (training images held out, a multiple of the class count), got {images.ToJsonString()}");
            return null;
        }
        return new ValidationSection { Images = count };
    }

    private static IReadOnlyList<string> ReadStrings(JsonNode? node, string path, List<string> problems)
    {
        if (node is null) return [];
        if (node is JsonArray array && array.All(i => i?.GetValueKind() == JsonValueKind.String))
            return array.Select(i => i!.GetValue<string>()).ToList();
        problems.Add($"{path}: expected an array of folder paths, got {node.ToJsonString()}");
        return [];
    }
}
