using Distillery.Abstractions.Plugins;

namespace Distillery.Engine.Plugins;

/// <summary>
/// A discovered plugin: what it is (kind, manifest name, description, version — see
/// <see cref="ExportAlgorithmAttribute.Version"/>), where it came from, and how to make an instance.
/// </summary>
public sealed record PluginDescriptor(
    string Kind,
    string Name,
    string Description,
    string Version,
    Type OptionsType,
    string SourcePath,
    Func<IPlugin> Create);

/// <summary>A plugin file or export that could not be used, with the reason; the others still load.</summary>
/// <param name="Path">The plugin file (or folder) concerned, as a full path.</param>
/// <param name="Reason">Why it was skipped and, where the user can act, what to change; one line.</param>
public sealed record PluginProblem(string Path, string Reason)
{
    /// <summary><c>path: reason</c>, the one line <c>distillery plugins</c>, <c>validate</c> and <c>run</c> show after "plugin skipped".</summary>
    public override string ToString() => $"{Path}: {Reason}";
}
