using System.Text.Json.Nodes;

namespace Distillery.Abstractions.Manifests;

/// <summary>
/// A declarative experiment: which plugins, with which options, on which device and seed, written where.
/// This is the product's public interface; the host reads it from JSON or YAML and validates every field.
/// </summary>
/// <remarks>Plugins do not see it: they get their bound options and a <see cref="Runs.RunContext"/>.</remarks>
public sealed class ExperimentManifest
{
    /// <summary>The experiment's name; the default run folder is <c>runs/&lt;name&gt;</c>, so it must be a valid folder name.</summary>
    public required string Name { get; init; }

    /// <summary>The seed every random choice derives from (see <see cref="Runs.RunContext.CreateGenerator"/>). Default 0.</summary>
    public long Seed { get; init; }

    /// <summary><c>cpu</c> (default), <c>cuda</c> or <c>cuda:N</c>.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary><c>float32</c> (default) or <c>float64</c>.</summary>
    public string DType { get; init; } = "float32";

    /// <summary>The dataset loader and its options.</summary>
    public required PluginSection Dataset { get; init; }

    /// <summary>The preprocessing steps, fitted on the training images and applied in order.</summary>
    public IReadOnlyList<PluginSection> Preprocess { get; init; } = [];

    /// <summary>The kernel, or null for none (algorithms and evaluators that need one say so).</summary>
    public PluginSection? Kernel { get; init; }

    /// <summary>The distillation algorithm and its options.</summary>
    public required PluginSection Algorithm { get; init; }

    /// <summary>The evaluators that score the support set.</summary>
    public IReadOnlyList<PluginSection> Evaluation { get; init; } = [];

    /// <summary>A validation split held out of the training set, scored instead of the test set; null: evaluate on test.</summary>
    public ValidationSection? Validation { get; init; }

    /// <summary>Where and what the run writes.</summary>
    public OutputSection Output { get; init; } = new();

    /// <summary>Extra plugin folders, searched besides the default one next to the executable.</summary>
    public IReadOnlyList<string> Plugins { get; init; } = [];
}

/// <summary>A plugin choice: its manifest name and its options object (bound to the plugin's options class).</summary>
public sealed class PluginSection
{
    /// <summary>The plugin's manifest name (<c>name</c>), as its export attribute states it.</summary>
    public required string Name { get; init; }

    /// <summary>The plugin's options (<c>options</c>), unbound; empty when the manifest gives none (every default).</summary>
    public JsonObject Options { get; init; } = new();

    /// <summary>
    /// An evaluation entry's <c>id</c>, which names its figures (<c>&lt;id&gt;.testAccuracy</c>) so that one evaluator can
    /// appear twice with different options; null when the manifest gives none (the id is then <see cref="Name"/>).
    /// Only evaluation entries take one.
    /// </summary>
    public string? Id { get; init; }

    /// <summary>
    /// The plugin version the manifest states (<c>version</c>, as manifest.resolved.json records it); null when it
    /// states none. When given, it must be the loaded plugin's version.
    /// </summary>
    public string? Version { get; init; }
}

/// <summary>
/// The manifest's <c>validation</c> section: a class-balanced subset of the training images, drawn with the run seed and
/// held out before preprocessing is fitted, that the algorithm never sees and the evaluators score instead of the test
/// set — for tuning a recipe without touching the test set.
/// </summary>
public sealed class ValidationSection
{
    /// <summary>How many training images to hold out, the same number from every class (a multiple of the class count).</summary>
    public required int Images { get; init; }
}

/// <summary>The manifest's <c>output</c> section.</summary>
public sealed class OutputSection
{
    /// <summary>The run folder; relative paths are relative to the working directory. Default runs/&lt;name&gt;.</summary>
    public string? Directory { get; init; }

    /// <summary>Write TensorBoard event files (scalars, image grids, the resolved options) into the run folder. Default true.</summary>
    public bool TensorBoard { get; init; } = true;
}
