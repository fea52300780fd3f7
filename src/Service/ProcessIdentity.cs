using System.Diagnostics;
using System.Globalization;

namespace Distillery.Service;

/// <summary>
/// Who a process is, in a way that outlives pid reuse: the host name, the kernel's boot id (a reboot starts a new
/// one), the pid and the process's start time in clock ticks since boot (field 22 of <c>/proc/&lt;pid&gt;/stat</c>,
/// proc(5)). A pid whose start time differs from the recorded one belongs to another, later process.
/// </summary>
/// <param name="Host">The machine's host name.</param>
/// <param name="BootId">Linux's <c>/proc/sys/kernel/random/boot_id</c>; empty where there is none.</param>
/// <param name="Pid">The process id on that host.</param>
/// <param name="StartTicks">Start time of the process in clock ticks since boot; null where /proc is missing.</param>
public sealed record ProcessIdentity(string Host, string BootId, int Pid, long? StartTicks)
{
    /// <summary>This process.</summary>
    public static ProcessIdentity Current { get; } =
        new(Environment.MachineName, ReadBootId(), Environment.ProcessId, StartTicksOf(Environment.ProcessId));

    /// <summary>
    /// Whether this identity is certainly gone, as seen from <paramref name="observer"/>: only a process on the same
    /// host and the same boot can be checked (its pid is not running, or runs a process started at another time);
    /// one elsewhere is never declared gone here (its lease decides). A reboot of this host ends every process of
    /// the earlier boot.
    /// </summary>
    public bool IsGoneAsSeenBy(ProcessIdentity observer)
    {
        if (Host != observer.Host) return false;
        if (BootId.Length > 0 && observer.BootId.Length > 0 && BootId != observer.BootId) return true;
        if (!IsRunning(Pid)) return true;
        return StartTicks is { } recorded && StartTicksOf(Pid) is { } actual && recorded != actual;
    }

    /// <summary>Start time of a process in clock ticks since boot, from /proc; null when it is gone or /proc is absent.</summary>
    public static long? StartTicksOf(int pid)
    {
        const int startTimeField = 22;
        return StatFields(pid) is { } fields && fields.Length > startTimeField - FirstFieldAfterComm
               && long.TryParse(fields[startTimeField - FirstFieldAfterComm], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks)
            ? ticks
            : null;
    }

    private static bool IsRunning(int pid)
    {
        // A killed process that its parent has not reaped yet is a zombie (state Z, field 3): gone all the same.
        if (Directory.Exists("/proc/self")) return StatFields(pid) is [var state, ..] && state is not ("Z" or "X");
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    /// <summary>Field 3 onwards of /proc/&lt;pid&gt;/stat (proc(5)); null when the process is gone.</summary>
    private static string[]? StatFields(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields are counted after the last ')'.
        return stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private const int FirstFieldAfterComm = 3;

    private static string ReadBootId()
    {
        try { return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }
}
