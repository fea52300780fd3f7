using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;
using Distillery.Engine.Plugins;
using Distillery.Engine.Runs;
using Spectre.Console;

namespace Distillery.Host.Cli;

/// <summary><c>distillery plugins</c>: every discovered plugin with its options, so nobody has to read source to write a manifest.</summary>
public static class PluginsCommand
{
    /// <summary>Columns assumed when the output is not a terminal: wide enough that no heading or option row wraps.</summary>
    private const int UnwrappedWidth = 4096;

    /// <summary>
    /// Prints every plugin of <paramref name="kind"/> (all kinds when null) found in the bundled folder and
    /// <paramref name="pluginFolders"/>, each with a table of its options; plugins that failed to load are warnings on
    /// stderr. Returns <see cref="ExitCodes.Success"/>, or <see cref="ExitCodes.InvalidInput"/> for an unknown kind.
    /// </summary>
    public static int Execute(string? kind, string[] pluginFolders)
    {
        // The kinds are this command's fixed vocabulary, not names a manifest must spell exactly: --kind Kernel is meant as kernel.
        var kinds = kind is null ? PluginKinds.All : PluginKinds.All.Where(k => string.Equals(k, kind, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (kinds.Count == 0)
        {
            Console.Error.WriteLine($"error: --kind: unknown kind '{kind}'; allowed: {string.Join(", ", PluginKinds.All)}");
            return ExitCodes.InvalidInput;
        }
        var catalog = PluginCatalog.Load(new[] { ExperimentInput.DefaultPluginFolder }.Concat(pluginFolders));
        // Piped or redirected, there is no terminal width to fit: Spectre would assume 80 columns and wrap every
        // description over many lines, so `distillery plugins | grep learningRate` would find a fragment. Unwrapped, one
        // row per line, without the padding of the table's last column.
        var piped = Console.IsOutputRedirected ? new StringWriter() : null;
        var console = AnsiConsole.Create(piped is null
            ? new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) }
            : new AnsiConsoleSettings { Out = new AnsiConsoleOutput(piped), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
        if (piped is not null) console.Profile.Width = UnwrappedWidth;

        foreach (var pluginKind in kinds)
        {
            foreach (var plugin in catalog.OfKind(pluginKind))
            {
                console.MarkupLine($"[bold]{pluginKind} {Markup.Escape(plugin.Name)}[/] (version {Markup.Escape(plugin.Version)}) — {Markup.Escape(plugin.Description)}");
                console.MarkupLine($"  [grey]from {Markup.Escape(plugin.SourcePath)}[/]");
                var options = OptionsSchema.Describe(plugin.OptionsType);
                if (options.Count == 0)
                {
                    console.WriteLine("  (no options)");
                    continue;
                }
                // Piped, each row also names its plugin (a line found by grep says whose option it is) and the table has no
                // border: its rule under the headings would be as long as the longest description.
                var table = new Table().Border(piped is null ? TableBorder.Simple : TableBorder.None);
                if (piped is not null) table.AddColumn("plugin");
                table.AddColumns("option", "type", "default", "description");
                foreach (var option in options)
                {
                    string[] cells = [option.Name, option.Type, option.Default, option.Description + (option.Constraint is null ? "" : $" ({option.Constraint})")];
                    table.AddRow([.. (piped is null ? cells : [$"{pluginKind} {plugin.Name}", .. cells]).Select(Markup.Escape)]);
                }
                console.Write(table);
            }
        }
        if (piped is not null)
            foreach (var line in piped.ToString().Split('\n'))
                Console.Out.WriteLine(line.TrimEnd());
        foreach (var problem in catalog.Problems)
            Console.Error.WriteLine($"warning: {problem.Warning}");
        return ExitCodes.Success;
    }
}
