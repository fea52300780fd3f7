using Distillery.Engine.Manifests;
using Distillery.Engine.Outputs;
using Distillery.Engine.Plugins;
using Distillery.Engine.Runs;

namespace Distillery.Host.Cli;

/// <summary>
/// <c>distillery schema</c>: the manifest's JSON Schema, generated from the plugins found (bundled and --plugins),
/// to standard output or to a file. The repository ships it as manifests/distillery.schema.json.
/// </summary>
public static class SchemaCommand
{
    /// <param name="output">The file to write, or null for standard output.</param>
    /// <param name="pluginFolders">Extra plugin folders, searched after the bundled ones.</param>
    /// <returns>0, or 2 (invalid input) when the output file cannot be written.</returns>
    public static int Execute(string? output, string[] pluginFolders)
    {
        var catalog = PluginCatalog.Load(new[] { ExperimentInput.DefaultPluginFolder }.Concat(pluginFolders));
        Errors.Warn(catalog.Problems.Select(p => p.Warning));
        var text = ManifestSchema.ToText(ManifestSchema.Generate(catalog));
        if (output is null)
        {
            Console.Out.Write(text);
            return ExitCodes.Success;
        }
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(output)) is { } folder) Directory.CreateDirectory(folder);
            AtomicFile.WriteAllText(output, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: --output {output}: cannot write the schema there: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        Console.Error.WriteLine($"Wrote {output}");
        return ExitCodes.Success;
    }
}
