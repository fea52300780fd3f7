using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using Distillery.Engine.Runs;

namespace Distillery.Service;

/// <summary>What every child run of the service gets: the operator's plugin folders, its thread count, and whether a manifest's own plugins entry is allowed.</summary>
/// <param name="PluginFolders">The service's --plugins folders (full paths), passed on to each run.</param>
/// <param name="Threads">CPU threads of each run: set as OMP_NUM_THREADS / MKL_NUM_THREADS in its environment and as --threads.</param>
/// <param name="AllowManifestPlugins">The operator's opt-in (serve --allow-manifest-plugins); otherwise runs get --no-manifest-plugins.</param>
public sealed record ChildRunOptions(IReadOnlyList<string> PluginFolders, int Threads, bool AllowManifestPlugins);

/// <summary>
/// One queue item run as a child `distillery run` process: a plugin that crashes, hangs the native library or
/// exhausts memory takes down that process only, and the service reports it and goes on.
/// </summary>
public sealed class RunProcess
{
    public sealed record Outcome(int ExitCode, string ErrorOutput);

    public static async Task<Outcome> RunAsync(string manifest, string runFolder, ChildRunOptions options, CancellationToken stopping)
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
        foreach (var argument in new[] { "run", manifest, "--output", runFolder, "--parent-pid", Environment.ProcessId.ToString(),
                                         "--threads", options.Threads.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(argument);
        if (!options.AllowManifestPlugins) start.ArgumentList.Add("--no-manifest-plugins");
        // Read by OpenMP and MKL when libtorch starts, before --threads is applied: no pool of one thread per core is ever made.
        foreach (var variable in RunThreads.EnvironmentVariables)
            start.Environment[variable] = options.Threads.ToString(CultureInfo.InvariantCulture);
        foreach (var folder in options.PluginFolders)
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
