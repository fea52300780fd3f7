namespace Distillery.Host.Cli;

/// <summary>The process exit codes, documented in the README.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>Bad command line, manifest, option, dataset file, plugin name or unavailable device. Nothing ran.</summary>
    public const int InvalidInput = 2;
    /// <summary>The run started and failed (a plugin threw, out of memory, I/O error). The log has details.</summary>
    public const int RunFailed = 3;
    /// <summary>Stopped by Ctrl+C or SIGTERM after writing a checkpoint; the same command resumes.</summary>
    public const int Cancelled = 130;
}
