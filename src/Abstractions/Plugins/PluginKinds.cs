namespace Distillery.Abstractions.Plugins;

/// <summary>The plugin kinds the host knows, as they appear in metadata and in <c>distillery plugins --kind</c>.</summary>
public static class PluginKinds
{
    /// <summary>Distillation algorithms (<see cref="IAlgorithm"/>, the manifest's <c>algorithm</c>).</summary>
    public const string Algorithm = "algorithm";
    /// <summary>Kernel providers (<see cref="IKernelProvider"/>, the manifest's <c>kernel</c>).</summary>
    public const string Kernel = "kernel";
    /// <summary>Dataset loaders (<see cref="IDatasetLoader"/>, the manifest's <c>dataset</c>).</summary>
    public const string Dataset = "dataset";
    /// <summary>Preprocessors (<see cref="IPreprocessor"/>, the manifest's <c>preprocess</c> list).</summary>
    public const string Preprocessor = "preprocessor";
    /// <summary>Evaluators (<see cref="IEvaluator"/>, the manifest's <c>evaluation</c> list).</summary>
    public const string Evaluator = "evaluator";

    /// <summary>Every kind, in the order <c>distillery plugins</c> lists them.</summary>
    public static IReadOnlyList<string> All { get; } = [Algorithm, Kernel, Dataset, Preprocessor, Evaluator];
}

/// <summary>
/// The metadata view MEF fills from the export attributes (<see cref="ExportAlgorithmAttribute"/>, …): MEF2 views must be
/// concrete classes. The host reads it; plugins do not use it.
/// </summary>
public sealed class PluginMetadata
{
    /// <summary>The plugin kind, one of <see cref="PluginKinds"/>.</summary>
    public string Kind { get; set; } = "";
    /// <summary>The manifest name.</summary>
    public string Name { get; set; } = "";
    /// <summary>The one-line description.</summary>
    public string Description { get; set; } = "";

    /// <summary>The export attribute's <c>Version</c>; <see cref="PluginVersions.Default"/> for a plugin built before versions existed.</summary>
    [System.ComponentModel.DefaultValue(PluginVersions.Default)]
    public string Version { get; set; } = PluginVersions.Default;
}
