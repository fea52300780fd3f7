using System.Globalization;
using Distillery.Engine.Runs;
using Distillery.Engine.Security;
using Distillery.Service;
using Spectre.Console;

namespace Distillery.Host.Cli;

/// <summary><c>distillery status</c>: the queue's items and each running item's progress, from the files alone.</summary>
public static class StatusCommand
{
    public static int Execute(string queueFolder)
    {
        if (!Directory.Exists(queueFolder))
        {
            Console.Error.WriteLine(File.Exists(queueFolder)
                ? $"error: --queue: {queueFolder} is a file, not a queue folder"
                : $"error: --queue: {queueFolder} does not exist");
            return ExitCodes.InvalidInput;
        }
        var items = new QueueStatus(queueFolder).Items();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        // Piped into a file or another program, each item stays on one line rather than wrapping at 80 columns.
        if (Console.IsOutputRedirected) console.Profile.Width = 400;
        var table = new Table().Border(TableBorder.Simple).AddColumns("item", "state", "attempts", "progress", "loss", "figures", "owner", "reason");
        foreach (var item in items)
        {
            var progress = item.TotalSteps is { } total ? $"{item.Phase} {item.Step ?? 0}/{total} ({100.0 * (item.Step ?? 0) / Math.Max(1, total):F0}%)" : "";
            var figures = string.Join(", ", item.Metrics.Where(m => !m.Key.EndsWith("Count", StringComparison.Ordinal))
                .Select(m => $"{m.Key} {m.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
            table.AddRow(Markup.Escape(PathNames.Printable(item.Id)), item.State, item.Attempts.ToString(CultureInfo.InvariantCulture), Markup.Escape(progress),
                item.Loss?.ToString("G4", CultureInfo.InvariantCulture) ?? "", Markup.Escape(figures), Markup.Escape(PathNames.Printable(item.Owner ?? "")),
                Markup.Escape(PathNames.Printable(item.Problem ?? item.Reason?.Split('\n').LastOrDefault() ?? "")));
        }
        console.Write(table);
        console.WriteLine(string.Join(", ", items.GroupBy(i => i.State).Select(g => $"{g.Count()} {g.Key}")));
        foreach (var item in items.Where(i => i.Problem is not null))
            Console.Error.WriteLine($"warning: {PathNames.Printable(item.Id)}: {PathNames.Printable(item.Problem!)}");
        return ExitCodes.Success;
    }
}
