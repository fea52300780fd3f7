using System.Composition;

namespace Distillery.Abstractions.Plugins;

// Exports a plugin class under its kind's contract, with the metadata the host reads: kind, manifest name and a
// one-line description (shown by `distillery plugins`) and its version (see PluginVersions). MEF2 reads metadata only
// from properties declared on the concrete attribute class itself, hence each attribute declares its own four properties.

/// <summary>Exports a distillation algorithm (<see cref="IAlgorithm"/>) under a manifest name, e.g. <c>kip</c>.</summary>
/// <param name="name">The manifest name (see <see cref="Name"/>).</param>
/// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ExportAlgorithmAttribute(string name) : ExportAttribute(typeof(IAlgorithm))
{
    /// <summary>The plugin kind, <see cref="PluginKinds.Algorithm"/>: the metadata the host sorts exports by.</summary>
    public string Kind => PluginKinds.Algorithm;

    /// <summary>
    /// The name a manifest's <c>algorithm</c> section gives (e.g. <c>kip</c>): lower case words joined by hyphens by convention.
    /// Unique per kind among the loaded plugins; a second plugin of the same kind and name is reported and ignored.
    /// </summary>
    public string Name { get; } = PluginNames.Check(name);

    /// <summary>One line on what the plugin does, shown by <c>distillery plugins</c> and in the manifest JSON Schema.</summary>
    public string Description { get; set; } = "";

    /// <summary>
    /// The plugin's version, any non-empty string (default <see cref="PluginVersions.Default"/>, "1"): bump it when the
    /// plugin's results change for the same options (a fixed bug, a changed step), not for a faster or refactored path
    /// that gives the same numbers. The host records it in a run folder's <c>manifest.resolved.json</c> and resumes a
    /// folder only with the same version (another is a different experiment: <c>--fresh</c> starts over);
    /// <c>distillery plugins</c> shows it.
    /// </summary>
    public string Version { get; set; } = PluginVersions.Default;
}

/// <summary>Exports a kernel provider (<see cref="IKernelProvider"/>) under a manifest name, e.g. <c>fc</c>.</summary>
/// <param name="name">The manifest name (see <see cref="Name"/>).</param>
/// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ExportKernelAttribute(string name) : ExportAttribute(typeof(IKernelProvider))
{
    /// <summary>The plugin kind, <see cref="PluginKinds.Kernel"/>: the metadata the host sorts exports by.</summary>
    public string Kind => PluginKinds.Kernel;

    /// <summary>
    /// The name a manifest's <c>kernel</c> section gives (e.g. <c>fc</c>): lower case words joined by hyphens by convention.
    /// Unique per kind among the loaded plugins; a second plugin of the same kind and name is reported and ignored.
    /// </summary>
    public string Name { get; } = PluginNames.Check(name);

    /// <summary>One line on what the plugin does, shown by <c>distillery plugins</c> and in the manifest JSON Schema.</summary>
    public string Description { get; set; } = "";

    /// <inheritdoc cref="ExportAlgorithmAttribute.Version"/>
    public string Version { get; set; } = PluginVersions.Default;
}

/// <summary>Exports a dataset loader (<see cref="IDatasetLoader"/>) under a manifest name, e.g. <c>fashion-mnist</c>.</summary>
/// <param name="name">The manifest name (see <see cref="Name"/>).</param>
/// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ExportDatasetAttribute(string name) : ExportAttribute(typeof(IDatasetLoader))
{
    /// <summary>The plugin kind, <see cref="PluginKinds.Dataset"/>: the metadata the host sorts exports by.</summary>
    public string Kind => PluginKinds.Dataset;

    /// <summary>
    /// The name a manifest's <c>dataset</c> section gives (e.g. <c>fashion-mnist</c>): lower case words joined by hyphens by convention.
    /// Unique per kind among the loaded plugins; a second plugin of the same kind and name is reported and ignored.
    /// </summary>
    public string Name { get; } = PluginNames.Check(name);

    /// <summary>One line on what the plugin does, shown by <c>distillery plugins</c> and in the manifest JSON Schema.</summary>
    public string Description { get; set; } = "";

    /// <inheritdoc cref="ExportAlgorithmAttribute.Version"/>
    public string Version { get; set; } = PluginVersions.Default;
}

/// <summary>Exports a preprocessor (<see cref="IPreprocessor"/>) under a manifest name, e.g. <c>standardize</c>.</summary>
/// <param name="name">The manifest name (see <see cref="Name"/>).</param>
/// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ExportPreprocessorAttribute(string name) : ExportAttribute(typeof(IPreprocessor))
{
    /// <summary>The plugin kind, <see cref="PluginKinds.Preprocessor"/>: the metadata the host sorts exports by.</summary>
    public string Kind => PluginKinds.Preprocessor;

    /// <summary>
    /// The name a manifest's <c>preprocess</c> section gives (e.g. <c>standardize</c>): lower case words joined by hyphens by convention.
    /// Unique per kind among the loaded plugins; a second plugin of the same kind and name is reported and ignored.
    /// </summary>
    public string Name { get; } = PluginNames.Check(name);

    /// <summary>One line on what the plugin does, shown by <c>distillery plugins</c> and in the manifest JSON Schema.</summary>
    public string Description { get; set; } = "";

    /// <inheritdoc cref="ExportAlgorithmAttribute.Version"/>
    public string Version { get; set; } = PluginVersions.Default;
}

/// <summary>Exports an evaluator (<see cref="IEvaluator"/>) under a manifest name, e.g. <c>krr</c>.</summary>
/// <param name="name">The manifest name (see <see cref="Name"/>).</param>
/// <exception cref="ArgumentException"><paramref name="name"/> is empty or white space.</exception>
[MetadataAttribute]
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ExportEvaluatorAttribute(string name) : ExportAttribute(typeof(IEvaluator))
{
    /// <summary>The plugin kind, <see cref="PluginKinds.Evaluator"/>: the metadata the host sorts exports by.</summary>
    public string Kind => PluginKinds.Evaluator;

    /// <summary>
    /// The name a manifest's <c>evaluation</c> section gives (e.g. <c>krr</c>): lower case words joined by hyphens by convention.
    /// Unique per kind among the loaded plugins; a second plugin of the same kind and name is reported and ignored.
    /// </summary>
    public string Name { get; } = PluginNames.Check(name);

    /// <summary>One line on what the plugin does, shown by <c>distillery plugins</c> and in the manifest JSON Schema.</summary>
    public string Description { get; set; } = "";

    /// <inheritdoc cref="ExportAlgorithmAttribute.Version"/>
    public string Version { get; set; } = PluginVersions.Default;
}

internal static class PluginNames
{
    public static string Check(string name) =>
        string.IsNullOrWhiteSpace(name) ? throw new ArgumentException("A plugin needs a manifest name.", nameof(name)) : name;
}

/// <summary>The default of the export attributes' <c>Version</c> (see <see cref="ExportAlgorithmAttribute.Version"/>).</summary>
public static class PluginVersions
{
    /// <summary>
    /// <c>"1"</c>: the version of a plugin whose export attribute states none, and of every plugin in a run folder written
    /// before versions were recorded.
    /// </summary>
    public const string Default = "1";
}
