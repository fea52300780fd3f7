using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;
using Distillery.Engine.Plugins;
using Distillery.Engine.Runs;
using Spectre.Console;

namespace Distillery.Host.Cli;

/// <summary><c>distillery plugins</c>: every discovered plugin with its options, so nobody has to read source to write a manifest.</summary>
public static class PluginsCommand
{
    public static int Execute(string? kind, string[] pluginFolders)
    {
        if (kind is not null && !PluginKinds.All.Contains(kind))
        {
            Console.Error.WriteLine($"error: --kind: unknown kind '{kind}'; allowed: {string.Join(", ", PluginKinds.All)}");
            return ExitCodes.InvalidInput;
        }
        var catalog = PluginCatalog.Load(new[] { ExperimentInput.DefaultPluginFolder }.Concat(pluginFolders));
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });

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
        foreach (var problem in catalog.Problems)
            Console.Error.WriteLine($"warning: plugin skipped: {problem}");
        return ExitCodes.Success;
    }
}
