using System.Text.Json.Nodes;
using Distillery.Abstractions.Manifests;
using Distillery.Host.Manifests;
using Distillery.Host.Plugins;

namespace Distillery.Host.Cli;

/// <summary>
/// What run and validate share: the manifest read and overridden, the plugin folders searched (the default one
/// next to the executable, then --plugins, then the manifest's own list), and the plan.
/// </summary>
public sealed record ExperimentInput(string ManifestPath, JsonObject Json, ExperimentManifest Manifest, PluginCatalog Catalog, ExperimentPlan Plan)
{
    public static string DefaultPluginFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    public static ExperimentInput Load(string manifestPath, IEnumerable<string> overrides, IEnumerable<string> pluginFolders)
    {
        var json = ManifestReader.Read(manifestPath);
        ManifestOverrides.Apply(json, overrides);
        var manifest = ExperimentPlanner.ReadManifest(json);
        var manifestFolder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var folders = new[] { DefaultPluginFolder }
            .Concat(pluginFolders)
            .Concat(manifest.Plugins.Select(p => Path.Combine(manifestFolder, p)));
        var catalog = PluginCatalog.Load(folders);
        return new ExperimentInput(manifestPath, json, manifest, catalog, ExperimentPlanner.Plan(json, catalog));
    }
}
