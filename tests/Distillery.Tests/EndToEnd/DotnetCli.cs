using System.Diagnostics;
using FluentAssertions;

namespace Distillery.Tests.EndToEnd;

/// <summary>Runs the `dotnet` command line (build, pack, new) as a plugin author would, failing the test with its output.</summary>
internal static class DotnetCli
{
    /// <summary>Runs <c>dotnet</c> with <paramref name="arguments"/> in <paramref name="workingDirectory"/> and requires exit code 0.</summary>
    /// <returns>The standard output.</returns>
    public static string Run(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // No first-run banner or telemetry notice in the captured output.
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        var command = "dotnet " + string.Join(' ', arguments);
        if (!process.WaitForExit(TimeSpan.FromMinutes(3)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} did not finish within 3 minutes");
        }
        process.ExitCode.Should().Be(0, $"{command} should succeed:\n{output.Result}\n{error.Result}");
        return output.Result;
    }
}
