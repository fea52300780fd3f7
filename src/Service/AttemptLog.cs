using System.Globalization;

namespace Distillery.Service;

/// <summary>
/// An item's reason file (<see cref="QueueFolders.ReasonFile(string, string)"/>): one block per failed attempt, each
/// opened by a header line <c>attempt N (time, service): kind (exit code):</c> and followed by the run's own
/// <c>error:</c> lines. A retried item keeps every attempt's reason; the file travels with the item when it is filed.
/// </summary>
public static class AttemptLog
{
    private const string Header = "attempt ";

    /// <summary>Appends the reason of failed attempt <paramref name="attempt"/> (1-based) to the file at <paramref name="path"/>.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Append(string path, int attempt, string service, string reason)
    {
        var (kind, details) = reason.IndexOf('\n') is var newline and >= 0 ? (reason[..newline], reason[(newline + 1)..]) : (reason, "");
        var header = string.Create(CultureInfo.InvariantCulture, $"{Header}{attempt} ({DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}Z, {service}): {kind}");
        // A detail line never passes for a header: the count of attempts stays exact whatever the run printed.
        var lines = details.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.StartsWith(Header, StringComparison.Ordinal) ? "  " + line : line);
        File.AppendAllLines(path, [header, .. lines]);
    }

    /// <summary>How many failed attempts the file at <paramref name="path"/> records; 0 when there is none.</summary>
    public static int FailedAttempts(string path)
    {
        try { return File.ReadLines(path).Count(line => line.StartsWith(Header, StringComparison.Ordinal)); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return 0; }
    }
}
