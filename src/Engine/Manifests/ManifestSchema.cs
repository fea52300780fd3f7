using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Plugins;

namespace Distillery.Engine.Manifests;

/// <summary>
/// The JSON Schema (draft 2020-12) of an experiment manifest, generated from a plugin catalog, for editors to
/// complete and check manifests with. Every plugin section is a <c>oneOf</c> keyed on <c>name</c>, one branch per
/// plugin of that kind, whose <c>options</c> list each option's type, range, default and description as
/// <see cref="OptionsSchema"/> reads them from the options class; the top-level fields follow
/// <see cref="ExperimentPlanner.TopLevelFields"/>. What a schema cannot see — a dataset folder that does not exist,
/// a class smaller than imagesPerClass, a missing CUDA device, cross-field rules — is left to <c>distillery validate</c>.
/// </summary>
public static class ManifestSchema
{
    /// <summary>The JSON Schema dialect the generated schema declares.</summary>
    public const string Dialect = "https://json-schema.org/draft/2020-12/schema";

    /// <summary>How the schema is written: indented, non-ASCII kept readable (≥, λ), one trailing newline.</summary>
    public static string ToText(JsonObject schema) => schema.ToJsonString(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file for editors, never embedded in HTML
    }).ReplaceLineEndings("\n") + "\n";

    /// <summary>The schema of a manifest whose plugins come from <paramref name="catalog"/>.</summary>
    /// <exception cref="InvalidOperationException">A top-level field of the planner has no schema here (a bug: add it).</exception>
    public static JsonObject Generate(PluginCatalog catalog)
    {
        var fields = TopLevelFieldSchemas();
        var properties = new JsonObject();
        foreach (var field in ExperimentPlanner.TopLevelFields)
            properties[field] = fields.TryGetValue(field, out var schema)
                ? schema
                : throw new InvalidOperationException($"the manifest field '{field}' has no JSON Schema in {nameof(ManifestSchema)}");

        var definitions = new JsonObject();
        foreach (var kind in PluginKinds.All) definitions[kind] = PluginSection(catalog, kind);

        return new JsonObject
        {
            ["$schema"] = Dialect,
            ["title"] = "Distillery experiment manifest",
            ["description"] = "An experiment: a plugin and its options for each role (`distillery plugins` lists them), written by `distillery schema`.",
            ["type"] = "object",
            ["required"] = Strings("name", "dataset", "algorithm"),
            ["additionalProperties"] = false,
            ["properties"] = properties,
            ["$defs"] = definitions,
        };
    }

    private static Dictionary<string, JsonObject> TopLevelFieldSchemas() => new()
    {
        ["name"] = Typed("string", "The experiment's name; the default run folder is runs/<name>."),
        ["description"] = Typed("string", "Free text about the experiment; not used by the run."),
        ["seed"] = With(Typed("integer", "Drives every random choice: support initialisation, target batches, random kernels, network initialisation."), 0),
        ["device"] = With(Typed("string", "Where tensors live: cpu, cuda (the first GPU) or cuda:N."), "cpu", pattern: ExperimentPlanner.DevicePatternText),
        ["dtype"] = new JsonObject
        {
            ["description"] = "Floating-point precision of every tensor.",
            ["enum"] = Strings([.. ExperimentPlanner.DTypes]),
            ["default"] = ExperimentPlanner.DTypes[0],
        },
        ["dataset"] = Reference(PluginKinds.Dataset, "Loads the training and test images."),
        ["preprocess"] = OneOrMany(PluginKinds.Preprocessor, "Transforms fitted on the training images and applied to train and test alike, in order."),
        ["kernel"] = Reference(PluginKinds.Kernel, "The kernel the algorithm and kernel ridge regression use."),
        ["algorithm"] = Reference(PluginKinds.Algorithm, "Produces the support set (the distilled images and their labels)."),
        ["evaluation"] = OneOrMany(PluginKinds.Evaluator, "Evaluators that score the support set, periodically and at the end."),
        ["validation"] = new JsonObject
        {
            ["description"] = "Hold out a class-balanced validation split of the training images (drawn with the seed, before preprocessing is fitted): the algorithm never sees it, and every evaluator scores on it instead of the test set (figures named validationAccuracy, …). Tune on validation, report test.",
            ["type"] = "object",
            ["required"] = Strings("images"),
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["images"] = new JsonObject
                {
                    ["description"] = "Training images to hold out, the same number from every class: a multiple of the class count, leaving every class at least one training image.",
                    ["type"] = "integer",
                    ["minimum"] = 1,
                    ["maximum"] = int.MaxValue,
                },
            },
        },
        ["output"] = new JsonObject
        {
            ["description"] = "Where and what the run writes.",
            ["type"] = "object",
            ["additionalProperties"] = false,
            ["properties"] = new JsonObject
            {
                ["directory"] = Typed("string", "The run folder (relative to the working directory); default runs/<name>. --output overrides it."),
                ["tensorboard"] = With(Typed("boolean", "Write TensorBoard event files (losses, figures, image grids, the resolved options) into the run folder."), true),
            },
        },
        ["plugins"] = new JsonObject
        {
            ["description"] = "Extra plugin folders, relative to the manifest, searched after the bundled plugins and --plugins.",
            ["type"] = "array",
            ["items"] = new JsonObject { ["type"] = "string" },
        },
        ["sweep"] = SweepSchema(),
        [ExperimentPlanner.SchemaField] = Typed("string", "This schema's location, for editors; ignored by distillery."),
    };

    /// <summary>A sweep: one grid, or a list of grids whose points are run together.</summary>
    private static JsonObject SweepSchema()
    {
        JsonObject Grid() => new()
        {
            ["type"] = "object",
            ["minProperties"] = 1,
            ["additionalProperties"] = new JsonObject { ["type"] = "array", ["minItems"] = 1 },
        };
        return new JsonObject
        {
            ["description"] = "A grid: manifest paths (e.g. algorithm.options.imagesPerClass, seed) mapped to lists of values; every combination runs into its own sub-folder. A list of grids runs the union of their points.",
            ["oneOf"] = new JsonArray(Grid(), new JsonObject { ["type"] = "array", ["minItems"] = 1, ["items"] = Grid() }),
        };
    }

    /// <summary>One branch per plugin of <paramref name="kind"/>, told apart by the constant <c>name</c>.</summary>
    private static JsonObject PluginSection(PluginCatalog catalog, string kind)
    {
        var branches = new JsonArray();
        foreach (var plugin in catalog.OfKind(kind))
        {
            var properties = new JsonObject();
            if (kind == PluginKinds.Evaluator)
                properties["id"] = With(Typed("string",
                    $"Names this entry's figures (<id>.testAccuracy in metrics.json, progress, TensorBoard and results tables), so one evaluator can appear twice; default: the plugin's name. Ids must be distinct: {ExperimentPlanner.IdRule}."),
                    plugin.Name, ExperimentPlanner.IdPatternText);
            properties["name"] = new JsonObject { ["const"] = plugin.Name };
            properties["version"] = With(Typed("string",
                "The plugin version the manifest was written for (manifest.resolved.json records it); when given, the loaded plugin must have it."), plugin.Version);
            var options = Options(plugin.OptionsType);
            properties["options"] = options;
            branches.Add(new JsonObject
            {
                ["title"] = plugin.Name,
                ["description"] = plugin.Description,
                ["type"] = "object",
                ["required"] = options.ContainsKey("required") ? Strings("name", "options") : Strings("name"),
                ["additionalProperties"] = false,
                ["properties"] = properties,
            });
        }
        return new JsonObject { ["oneOf"] = branches };
    }

    private static JsonObject Options(Type optionsType)
    {
        var defaults = OptionsSchema.ToJson(Activator.CreateInstance(optionsType)!);
        var properties = new JsonObject();
        var described = OptionsSchema.Describe(optionsType);
        foreach (var option in described)
        {
            // [Required] refuses null and (a string) "", whether or not the option has a default to leave it out for.
            var nonEmpty = option.Property.GetCustomAttribute<RequiredAttribute>() is not null;
            var schema = ValueSchema(option.Property.PropertyType, acceptsNull: !nonEmpty);
            if (nonEmpty && option.Property.PropertyType == typeof(string)) schema["minLength"] = 1;
            schema["description"] = option.Description;
            if (option.Property.GetCustomAttribute<RangeAttribute>() is { } range) AddRange(schema, range);
            if (option.Property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
                schema["enum"] = new JsonArray([.. allowed.Values.Select(v => JsonSerializer.SerializeToNode(v))]);
            if (!option.Required) schema["default"] = defaults[option.Name]?.DeepClone();
            properties[option.Name] = schema;
        }
        var options = new JsonObject { ["type"] = "object", ["additionalProperties"] = false, ["properties"] = properties };
        var required = described.Where(o => o.Required).Select(o => o.Name).ToArray();
        if (required.Length > 0) options["required"] = Strings(required);
        return options;
    }

    /// <summary>The JSON type the binder accepts for a property type, null included where the binder takes it (and
    /// <paramref name="acceptsNull"/> allows it).</summary>
    private static JsonObject ValueSchema(Type type, bool acceptsNull)
    {
        var nullable = acceptsNull && OptionsSchema.AcceptsNull(type);
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target.IsEnum)
        {
            var names = Strings([.. OptionsSchema.EnumNames(target)]);
            if (nullable) names.Add(null);
            return new JsonObject { ["enum"] = names };
        }
        var name = target == typeof(int) || target == typeof(long) ? "integer"
            : target == typeof(double) || target == typeof(float) ? "number"
            : target == typeof(bool) ? "boolean"
            : target == typeof(string) ? "string"
            : OptionsSchema.TypeName(target) == "array" ? "array"
            : "object";
        return new JsonObject { ["type"] = nullable ? Strings(name, "null") : name };
    }

    private static void AddRange(JsonObject schema, RangeAttribute range)
    {
        schema[range.MinimumIsExclusive ? "exclusiveMinimum" : "minimum"] = JsonSerializer.SerializeToNode(range.Minimum);
        if (!OptionsSchema.IsUnboundedAbove(range))
            schema[range.MaximumIsExclusive ? "exclusiveMaximum" : "maximum"] = JsonSerializer.SerializeToNode(range.Maximum);
    }

    private static JsonObject Reference(string kind, string description) =>
        new() { ["description"] = description, ["$ref"] = $"#/$defs/{kind}" };

    /// <summary>A list of sections, or (as the planner accepts) a single section.</summary>
    private static JsonObject OneOrMany(string kind, string description) => new()
    {
        ["description"] = description,
        ["oneOf"] = new JsonArray(
            new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["$ref"] = $"#/$defs/{kind}" } },
            new JsonObject { ["$ref"] = $"#/$defs/{kind}" }),
    };

    private static JsonObject Typed(string type, string description) => new() { ["description"] = description, ["type"] = type };

    private static JsonObject With(JsonObject schema, JsonNode? defaultValue, string? pattern = null)
    {
        if (pattern is not null) schema["pattern"] = pattern;
        schema["default"] = defaultValue;
        return schema;
    }

    private static JsonArray Strings(params string[] values) => new([.. values.Select(v => (JsonNode?)v)]);
}
