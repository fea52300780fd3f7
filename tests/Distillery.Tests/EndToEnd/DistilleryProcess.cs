using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Distillery.Tests.EndToEnd;

/// <summary>Runs the built `distillery` executable (from the host's own output folder, with its plugins/) as a user would.</summary>
internal static class DistilleryProcess
{
    public static string HostDirectory => Metadata("HostOutputDirectory");
    public static string RepositoryRoot => Path.GetFullPath(Metadata("RepositoryRoot"));
    public static string Executable => Path.Combine(HostDirectory, "distillery.dll");

    /// <summary>The build configuration of the tests (and so of the host and Distillery.Abstractions they use): Debug or Release.</summary>
    public static string Configuration => Metadata("Configuration");

    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
    }

    public static Result Run(string workingDirectory, params string[] arguments) =>
        Start(workingDirectory, arguments).WaitForResult(TimeSpan.FromMinutes(10));

    /// <summary>
    /// Runs the executable through <c>bash -c <paramref name="script"/></c>, whose arguments are the executable and
    /// <paramref name="arguments"/>: the script runs it as <c>dotnet "$@"</c> under a shell setting, e.g.
    /// <c>ulimit -v 2500000 &amp;&amp; exec dotnet "$@"</c> or <c>exec dotnet "$@" &gt; /dev/full</c>.
    /// </summary>
    public static Result RunThroughShell(string workingDirectory, string script, params string[] arguments)
    {
        using var running = Launch("bash", workingDirectory, new Dictionary<string, string>(), ["-c", script, "bash", Executable, .. arguments]);
        return running.WaitForResult(TimeSpan.FromMinutes(5));
    }

    public static Running Start(string workingDirectory, params string[] arguments) =>
        StartWithEnvironment(workingDirectory, new Dictionary<string, string>(), arguments);

    public static Running StartWithEnvironment(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Launch("dotnet", workingDirectory, environment, [Executable, .. arguments]);

    /// <summary>Starts <paramref name="program"/> with its output and error captured, as every run here is.</summary>
    private static Running Launch(string program, string workingDirectory, IReadOnlyDictionary<string, string> environment, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return new Running(Process.Start(start)!);
    }

    internal sealed class Running : IDisposable
    {
        private readonly StringBuilder _output = new(), _error = new();

        public Running(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_error) _error.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        /// <summary>Sends a POSIX signal (SIGTERM, SIGINT) as a service manager or Ctrl+C would.</summary>
        public void Signal(string name) => System.Diagnostics.Process.Start("kill", $"-{name} {Process.Id}")!.WaitForExit();

        public Result WaitForResult(TimeSpan timeout)
        {
            if (!Process.WaitForExit(timeout))
            {
                Process.Kill(entireProcessTree: true);
                throw new TimeoutException($"distillery did not finish within {timeout}");
            }
            Process.WaitForExit();
            lock (_output) lock (_error) return new Result(Process.ExitCode, _output.ToString(), _error.ToString());
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    private static string Metadata(string key) =>
        typeof(DistilleryProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}
