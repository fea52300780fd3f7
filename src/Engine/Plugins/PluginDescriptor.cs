using Distillery.Abstractions.Plugins;

namespace Distillery.Engine.Plugins;

/// <summary>A discovered plugin: what it is, where it came from, and how to make an instance.</summary>
public sealed record PluginDescriptor(
    string Kind,
    string Name,
    string Description,
    Type OptionsType,
    string SourcePath,
    Func<IPlugin> Create);

/// <summary>A plugin file or export that could not be used, with the reason; the others still load.</summary>
public sealed record PluginProblem(string Path, string Reason)
{
    public override string ToString() => $"{Path}: {Reason}";
}
