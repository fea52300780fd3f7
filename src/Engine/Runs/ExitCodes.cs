namespace Distillery.Engine.Runs;

/// <summary>
/// The exit codes of the distillery process, documented in the README: what a command ends with, and what the queue
/// service reads from the `distillery run` processes it starts (so both sides take them from here).
/// </summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;
    /// <summary>Bad command line, manifest, option, dataset file, plugin name or unavailable device. Nothing ran.</summary>
    public const int InvalidInput = 2;
    /// <summary>The run started and failed (a plugin threw, out of memory, I/O error). The log has details.</summary>
    public const int RunFailed = 3;
    /// <summary>Stopped by Ctrl+C or SIGTERM after writing a checkpoint; the same command resumes.</summary>
    public const int Cancelled = 130;
    /// <summary>
    /// `serve` cannot use its queue folder or status port (a sub-folder is a file or not writable, the port is taken).
    /// Distinct from 2 so that a service manager can tell it apart; the shipped systemd unit does not restart on it
    /// (RestartPreventExitStatus), since restarting cannot fix it. 78 is sysexits' EX_CONFIG.
    /// </summary>
    public const int ServiceUnusable = 78;
}
