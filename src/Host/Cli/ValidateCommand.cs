using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;
using Distillery.Engine.Runs;

namespace Distillery.Host.Cli;

/// <summary>
/// <c>distillery validate</c>: parse the manifest, resolve every plugin, bind and validate every option, check
/// the device and the dataset's files (each dataset plugin's cheap <c>Check</c>: files exist, headers parse) — and
/// run nothing. Prints the resolved manifest (defaults filled in).
/// </summary>
public static class ValidateCommand
{
    public static int Execute(string manifest, string[] overrides, string[] pluginFolders, bool verbose)
    {
        try
        {
            var input = ExperimentInput.Load(manifest, overrides, pluginFolders);
            Errors.Warn(input.Catalog.Problems.Select(p => p.Warning));
            DeviceSelector.Resolve(input.Manifest.Device);
            CheckDatasets(input.Points);
            if (input.IsSweep)
                foreach (var point in input.Points) Console.Error.WriteLine($"sweep point {point.Point.Name}: valid");
            Console.WriteLine(input.Points[0].Plan.ToResolvedJson().ToJsonString(OptionsSchema.Json));
            Console.Error.WriteLine($"{manifest}: valid{(input.IsSweep ? $" ({input.Points.Count} sweep points; the first one is shown)" : "")}");
            return ExitCodes.Success;
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, verbose);
        }
    }

    /// <summary>Each distinct dataset of the points (a sweep may vary it) checked once, its errors named by the point.</summary>
    private static void CheckDatasets(IReadOnlyList<PlannedPoint> points)
    {
        var checkedDatasets = new HashSet<string>();
        foreach (var point in points)
        {
            var dataset = point.Plan.Dataset;
            if (!checkedDatasets.Add(point.Plan.ToResolvedJson()["dataset"]!.ToJsonString())) continue;
            try
            {
                dataset.Call(() => dataset.Create<IDatasetLoader>().Check(dataset.Options));
            }
            catch (DistilleryException e) when (point.Point.Name.Length > 0)
            {
                throw new DistilleryException($"sweep point {point.Point.Name}: {e.Message}", e);
            }
        }
    }
}
