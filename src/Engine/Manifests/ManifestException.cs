using Distillery.Abstractions;

namespace Distillery.Engine.Manifests;

/// <summary>One or more manifest problems, each naming its path (<c>algorithm.options.steps: …</c>).</summary>
/// <param name="problems">The problems, one line each.</param>
/// <param name="pluginWarnings">The plugin catalog's warnings (<see cref="Plugins.PluginProblem.Warning"/>), one line
/// each: a skipped plugin is often why a name is unknown, so they are shown before the problems.</param>
public sealed class ManifestException(IReadOnlyList<string> problems, IReadOnlyList<string>? pluginWarnings = null)
    : DistilleryException(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;

    /// <summary>Warnings about the plugins searched while planning (empty when none were, or none went wrong).</summary>
    public IReadOnlyList<string> PluginWarnings { get; } = pluginWarnings ?? [];
}
