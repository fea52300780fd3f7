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
        if (kind is not null && !PluginKinds.All.Contains(kind))
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

        foreach (var pluginKind in kind is null ? PluginKinds.All : [kind])
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
                var table = new Table().Border(TableBorder.Simple).AddColumns("option", "type", "default", "description");
                foreach (var option in options)
                    table.AddRow(Markup.Escape(option.Name), Markup.Escape(option.Type), Markup.Escape(option.Default),
                        Markup.Escape(option.Description + (option.Constraint is null ? "" : $" ({option.Constraint})")));
                console.Write(table);
            }
        }
        if (piped is not null)
            foreach (var line in piped.ToString().Split('\n'))
                Console.Out.WriteLine(line.TrimEnd());
        foreach (var problem in catalog.Problems)
            Console.Error.WriteLine($"warning: plugin skipped: {problem}");
        return ExitCodes.Success;
    }
}
