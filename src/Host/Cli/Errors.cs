using Distillery.Abstractions;

namespace Distillery.Host.Cli;

/// <summary>How failures reach the user: one clear line each on standard error, a stack trace only with --verbose.</summary>
public static class Errors
{
    public static int InvalidInput(DistilleryException error, bool verbose)
    {
        foreach (var line in error.Message.Split(Environment.NewLine))
            Console.Error.WriteLine($"error: {line}");
        if (verbose) Console.Error.WriteLine(error);
        return ExitCodes.InvalidInput;
    }

    public static int RunFailed(Exception error, bool verbose)
    {
        Console.Error.WriteLine($"error: the run failed: {error.GetType().Name}: {error.Message}");
        Console.Error.WriteLine(verbose ? error.ToString() : "(details in run.log in the run folder, or rerun with --verbose)");
        return ExitCodes.RunFailed;
    }
}
