namespace Distillery.Abstractions.Plugins;

/// <summary>The plugin kinds the host knows, as they appear in metadata and in <c>distillery plugins --kind</c>.</summary>
public static class PluginKinds
{
    public const string Algorithm = "algorithm";
    public const string Kernel = "kernel";
    public const string Dataset = "dataset";
    public const string Preprocessor = "preprocessor";
    public const string Evaluator = "evaluator";

    public static IReadOnlyList<string> All { get; } = [Algorithm, Kernel, Dataset, Preprocessor, Evaluator];
}

/// <summary>
/// The metadata view MEF fills from a <see cref="PluginExportAttribute"/> (MEF2 views must be concrete classes).
/// </summary>
public sealed class PluginMetadata
{
    public string Kind { get; set; } = "";
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";

    /// <summary>The export attribute's <c>Version</c>; <see cref="PluginVersions.Default"/> for a plugin built before versions existed.</summary>
    [System.ComponentModel.DefaultValue(PluginVersions.Default)]
    public string Version { get; set; } = PluginVersions.Default;
}
