using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Abstractions.Manifests;
using Distillery.Engine.Manifests;
using Distillery.Engine.Plugins;
using Distillery.Engine.Sweeps;

namespace Distillery.Engine.Manifests;

/// <summary>One runnable point of a manifest (the manifest itself when it has no sweep), validated.</summary>
public sealed record PlannedPoint(SweepPoint Point, ExperimentPlan Plan)
{
    /// <summary>The point's run folder: the experiment folder itself, or a sub-folder named after the point.</summary>
    public string RunFolder(string experimentFolder) =>
        Point.Name.Length == 0 ? experimentFolder : Path.Combine(experimentFolder, Point.Name);
}

/// <summary>
/// What run and validate share: the manifest read and overridden, the plugin folders searched (the default one
/// next to the executable, then --plugins, then the manifest's own list), and every point planned. All points are
/// validated before any runs, so a mistake in the last point of a sweep is found before hours of work.
/// </summary>
public sealed record ExperimentInput(string ManifestPath, ExperimentManifest Manifest, PluginCatalog Catalog, IReadOnlyList<PlannedPoint> Points)
{
    public static string DefaultPluginFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    public bool IsSweep => Points.Count > 1 || Points[0].Point.Name.Length > 0;

    /// <summary>The experiment folder: --output, else the manifest's output.directory, else runs/&lt;name&gt;.</summary>
    public string ExperimentFolder(string? output) =>
        Path.GetFullPath(output ?? Manifest.Output.Directory ?? Path.Combine("runs", Manifest.Name));

    /// <param name="allowManifestPlugins">
    /// False for a manifest from untrusted hands (a queue's inbox): its <c>plugins</c> entry would load code from
    /// any folder, so it is refused; only the folders the operator passed with --plugins are searched.
    /// </param>
    public static ExperimentInput Load(string manifestPath, IEnumerable<string> overrides, IEnumerable<string> pluginFolders,
                                       bool allowManifestPlugins = true)
    {
        var json = ManifestReader.Read(manifestPath);
        ManifestOverrides.Apply(json, overrides);
        var manifest = ExperimentPlanner.ReadManifest(json);
        if (!allowManifestPlugins && manifest.Plugins.Count > 0)
            throw new DistilleryException(
                "plugins: a queued manifest may not load plugin folders (they would run their code in the service's account); " +
                "ask the operator to install the plugins with `serve --plugins DIR`, or to start the service with --allow-manifest-plugins");
        var manifestFolder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var folders = new[] { DefaultPluginFolder }
            .Concat(pluginFolders)
            .Concat(manifest.Plugins.Select(p => Path.Combine(manifestFolder, p)));
        // libtorch is loaded before any plugin can touch TorchSharp (NativeTorchLoader says why), and only after the
        // manifest has passed its bounded parse: a refused manifest costs neither the time nor the ~100 MB of it.
        NativeTorchLoader.Load();
        var catalog = PluginCatalog.Load(folders);
        return new ExperimentInput(manifestPath, manifest, catalog, PlanPoints(SweepExpander.Expand(json), catalog));
    }

    private static List<PlannedPoint> PlanPoints(IReadOnlyList<SweepPoint> points, PluginCatalog catalog)
    {
        var planned = new List<PlannedPoint>();
        var problems = new List<string>();
        foreach (var point in points)
        {
            try
            {
                planned.Add(new PlannedPoint(point, ExperimentPlanner.Plan(point.Manifest, catalog)));
            }
            catch (ManifestException e)
            {
                var prefix = point.Name.Length == 0 ? "" : $"sweep point {point.Name}: ";
                problems.AddRange(e.Problems.Select(p => prefix + p));
            }
        }
        if (problems.Count > 0) throw new ManifestException(problems.Distinct().ToList(), catalog.Problems.Select(p => p.Warning).ToList());
        return planned;
    }
}
