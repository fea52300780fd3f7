using Distillery.Abstractions;
using Distillery.Engine.Manifests;
using Distillery.Engine.Runs;

namespace Distillery.Host.Cli;

/// <summary>How failures reach the user: one clear line each on standard error, a stack trace only with --verbose.</summary>
public static class Errors
{
    /// <summary>Each of <paramref name="warnings"/> as one <c>warning:</c> line on standard error.</summary>
    public static void Warn(IEnumerable<string> warnings)
    {
        foreach (var warning in warnings) Console.Error.WriteLine($"warning: {warning}");
    }

    /// <summary>
    /// Input or output the command cannot use (manifest, option, plugin, file; a <see cref="StandardOutputException"/>):
    /// the plugin warnings that may explain it, then one <c>error:</c> line per line of the message; exit code 2. The
    /// stack trace only with --verbose.
    /// </summary>
    public static int InvalidInput(Exception error, bool verbose)
    {
        // A skipped plugin or an ignored export is often why a manifest's name is unknown: say so before the errors.
        if (error is ManifestException manifest) Warn(manifest.PluginWarnings);
        foreach (var line in error.Message.Split(Environment.NewLine))
            Console.Error.WriteLine($"error: {line}");
        if (verbose) Console.Error.WriteLine(error);
        return ExitCodes.InvalidInput;
    }

    /// <summary>
    /// One <c>error:</c> line: a <see cref="NumericalFailureException"/>'s own message (it already says where, what
    /// and what to change), else the exception's type and the first line of its message — libtorch appends a C++
    /// backtrace to its messages, which belongs in run.log (and --verbose), not on the console.
    /// </summary>
    public static int RunFailed(Exception error, bool verbose)
    {
        Console.Error.WriteLine($"error: {Describe(error)}");
        Console.Error.WriteLine(verbose ? error.ToString() : "(details in run.log in the run folder, or rerun with --verbose)");
        return ExitCodes.RunFailed;
    }

    /// <summary>The text after <c>error: </c> for a failed run (one line).</summary>
    public static string Describe(Exception error)
    {
        var firstLine = error.Message.Split('\n', 2)[0].TrimEnd();
        return error is NumericalFailureException ? firstLine : $"the run failed: {error.GetType().Name}: {firstLine}";
    }
}
