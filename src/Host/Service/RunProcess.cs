using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Distillery.Host.Service;

/// <summary>
/// One queue item run as a child `distillery run` process: a plugin that crashes, hangs the native library or
/// exhausts memory takes down that process only, and the service reports it and goes on.
/// </summary>
public sealed class RunProcess
{
    public sealed record Outcome(int ExitCode, string ErrorOutput);

    public static async Task<Outcome> RunAsync(string manifest, string runFolder, IReadOnlyList<string> pluginFolders,
                                               CancellationToken stopping)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // The same executable as this service: the apphost, or `dotnet distillery.dll`.
        var processPath = Environment.ProcessPath!;
        start.FileName = processPath;
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        foreach (var argument in new[] { "run", manifest, "--output", runFolder, "--parent-pid", Environment.ProcessId.ToString() })
            start.ArgumentList.Add(argument);
        foreach (var folder in pluginFolders)
        {
            start.ArgumentList.Add("--plugins");
            start.ArgumentList.Add(folder);
        }

        using var process = Process.Start(start)!;
        var errors = new StringBuilder();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (errors) errors.AppendLine(e.Data); };
        process.OutputDataReceived += (_, _) => { }; // the run's own run.log keeps its output
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        // On shutdown, ask the run to stop after its current step and write a checkpoint (SIGTERM), then wait.
        await using var onStop = stopping.Register(() => Signal(process.Id, "TERM"));
        await process.WaitForExitAsync(CancellationToken.None);
        lock (errors) return new Outcome(process.ExitCode, errors.ToString());
    }

    private static void Signal(int processId, string signal)
    {
        try { Process.Start("kill", $"-{signal} {processId}")?.WaitForExit(); }
        catch (Exception) { /* already gone */ }
    }
}
