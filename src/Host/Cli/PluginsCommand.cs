using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;
using Distillery.Engine.Plugins;
using Distillery.Engine.Runs;
using Spectre.Console;

namespace Distillery.Host.Cli;

/// <summary><c>distillery plugins</c>: every discovered plugin with its options, so nobody has to read source to write a manifest.</summary>
public static class PluginsCommand
{
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
        // Piped or redirected, there is no terminal width to fit: a table would wrap every description at 80 columns, so
        // `distillery plugins | grep learningRate` would find a fragment. So each option is one line of tab-separated
        // fields, kind and plugin first: what grep finds says whose option it is, and cut -f or awk -F'\t' can read it.
        var piped = Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        if (piped) Console.Out.WriteLine(string.Join('\t', "kind", "plugin", "option", "type", "default", "description"));

        foreach (var pluginKind in kinds)
        {
            foreach (var plugin in catalog.OfKind(pluginKind))
            {
                var (title, about) = ($"{pluginKind} {plugin.Name}", $" (version {plugin.Version}) — {plugin.Description}");
                if (piped) Console.Out.WriteLine($"{title}{about}\n  from {plugin.SourcePath}");
                else console.MarkupLine($"[bold]{Markup.Escape(title)}[/]{Markup.Escape(about)}\n  [grey]from {Markup.Escape(plugin.SourcePath)}[/]");
                var options = OptionsSchema.Describe(plugin.OptionsType);
                if (options.Count == 0)
                {
                    Console.Out.WriteLine("  (no options)");
                    continue;
                }
                var rows = options.Select(o => new[] { o.Name, o.Type, o.Default, o.Description + (o.Constraint is null ? "" : $" ({o.Constraint})") });
                if (piped)
                {
                    foreach (var row in rows) Console.Out.WriteLine(string.Join('\t', [pluginKind, plugin.Name, .. row]));
                    continue;
                }
                var table = new Table().Border(TableBorder.Simple).AddColumns("option", "type", "default", "description");
                foreach (var row in rows) table.AddRow([.. row.Select(Markup.Escape)]);
                console.Write(table);
            }
        }
        Errors.Warn(catalog.Problems.Select(p => p.Warning));
        return ExitCodes.Success;
    }
}
