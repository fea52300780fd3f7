using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Distillery.Engine.Runs;

/// <summary>
/// The peak resident memory of a run (<c>peakMemoryBytes</c> in metrics.json), native libtorch allocations included.
/// The operating system keeps one peak per process (Linux: VmHWM in /proc/self/status), so without a reset every run
/// after the first in one process — the points of an in-process sweep — would report the largest peak so far.
/// </summary>
public static class PeakMemory
{
    /// <summary>Linux's per-process reset: writing 5 to this file sets the peak to the current resident memory (Linux 4.0+).</summary>
    private const string ClearRefs = "/proc/self/clear_refs";

    /// <summary>
    /// Starts a new peak: from now on <see cref="ResidentBytes"/> reports the peak since this call (the memory resident
    /// now included: loaded libraries, cached data). Returns false where that is refused or not supported — not Linux,
    /// a kernel or sandbox that refuses the write — and then <see cref="ResidentBytes"/> goes on reporting the process's
    /// peak since it started. Never throws.
    /// </summary>
    public static bool Reset()
    {
        if (!OperatingSystem.IsLinux()) return false;
        // An earlier run's tensors that nothing references any more are freed by finalizers: free them now, so that
        // the memory the new peak starts from is what is still in use, not what awaits the next collection.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        ReturnFreedHeap();
        try
        {
            File.WriteAllText(ClearRefs, "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>
    /// Hands the C heap's free pages back to the operating system (glibc's <c>malloc_trim</c>): libtorch's freed tensors
    /// otherwise stay resident in the heap and would count towards the next run's peak. A C library without it (musl)
    /// keeps them; nothing else changes.
    /// </summary>
    private static void ReturnFreedHeap()
    {
        try { malloc_trim(0); }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    /// <summary>The peak resident memory in bytes since the last successful <see cref="Reset"/> (else since the process started).</summary>
    public static long ResidentBytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.PeakWorkingSet64;
    }
}
