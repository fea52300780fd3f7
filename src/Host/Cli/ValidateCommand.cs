using Distillery.Abstractions;
using Distillery.Host.Runs;

namespace Distillery.Host.Cli;

/// <summary>
/// <c>distillery validate</c>: parse the manifest, resolve every plugin, bind and validate every option, check
/// the device — and run nothing. Prints the resolved manifest (defaults filled in).
/// </summary>
public static class ValidateCommand
{
    public static int Execute(string manifest, string[] overrides, string[] pluginFolders, bool verbose)
    {
        try
        {
            var input = ExperimentInput.Load(manifest, overrides, pluginFolders);
            foreach (var problem in input.Catalog.Problems) Console.Error.WriteLine($"warning: plugin skipped: {problem}");
            DeviceSelector.Resolve(input.Manifest.Device);
            if (input.IsSweep)
                foreach (var point in input.Points) Console.Error.WriteLine($"sweep point {point.Point.Name}: valid");
            Console.WriteLine(input.Points[0].Plan.ToResolvedJson().ToJsonString(Manifests.OptionsSchema.Json));
            Console.Error.WriteLine($"{manifest}: valid{(input.IsSweep ? $" ({input.Points.Count} sweep points; the first one is shown)" : "")}");
            return ExitCodes.Success;
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, verbose);
        }
    }
}
