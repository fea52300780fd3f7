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
/// <param name="ExportOnly">True when only one export of the file was refused (its name is taken) and its other
/// exports loaded; false when the whole file was skipped.</param>
public sealed record PluginProblem(string Path, string Reason, bool ExportOnly = false)
{
    /// <summary>
    /// The warning line <c>distillery plugins</c>, <c>schema</c>, <c>validate</c> and <c>run</c> show: "plugin skipped:
    /// path: reason", or "plugin export ignored: …" when the file's other exports loaded (saying the whole plugin was
    /// skipped would send its author looking for a load failure that did not happen).
    /// </summary>
    public string Warning => $"{(ExportOnly ? "plugin export ignored" : "plugin skipped")}: {this}";

    /// <summary><c>path: reason</c>.</summary>
    public override string ToString() => $"{Path}: {Reason}";
}
