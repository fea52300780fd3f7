using System.Runtime.InteropServices;
using Distillery.Abstractions.Numerics;
using Distillery.Engine.Plugins;

namespace Distillery.Engine.Runs;

/// <summary>
/// Keeps the C heap's freed memory for reuse instead of handing it back to the operating system, where the C library is
/// glibc. libtorch's CPU tensors come from <c>malloc</c>, and glibc serves every block of 32 MiB or more (its largest
/// mmap threshold) with a fresh <c>mmap</c> and returns it with <c>munmap</c> when freed. A ConvNet's activations are
/// that large (64 images × 128 channels × 32 × 32 float32 = 32 MiB), so each layer of each step mapped new pages and
/// took a page fault per 4 KiB touched: a third of a DSA run's CPU time was spent in the kernel. Measured by
/// <c>benchmarks/native-heap.sh</c> (README "Native heap"), two runs side by side on 2 cores: a median 29.0 s per
/// 10-per-class DSA iteration instead of 56.1 s (1.93×), bit-identical results, 14% more peak resident memory.
/// </summary>
/// <remarks>
/// <para>
/// A run's tensor work runs on a .NET pool thread, which glibc serves from a thread arena: a chain of heaps of at most
/// 64 MiB (<see cref="CpuBlocks.ArenaHeapBytes"/>). The trim threshold does not govern those. Whenever a free leaves the
/// arena's newest heap entirely free, glibc deletes that heap unless the room this frees is under the top pad (128 KiB
/// by default), so the next step's allocation creates a fresh heap and faults in its pages again. A KIP step with
/// <c>convnet-rf</c> redrawn at every step (10 per class, one network of width 64, 1,000 targets in blocks of ≤ 32 MiB)
/// created and deleted about 7 heaps per step that way: 0.42 s a step alone on the machine (0.45–0.98 s beside other
/// runs) instead of 0.31 s, and a fixed draw's step 0.40 s instead of 0.08 s (README "Native heap"). A top pad of one heap
/// keeps every heap once made. It is left at glibc's default under an address-space limit (<c>ulimit -v</c>), where it
/// would cost too much: the main heap then grows 64 MiB at a time, and under a 4 GB limit that left too little room to
/// load libtorch.
/// </para>
/// <para>
/// The effect is glibc's <c>GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=…:glibc.malloc.top_pad=…</c>,
/// set from inside the process because tunables are read only when a process starts. Blocks larger than a thread arena's
/// heap are still mapped, as glibc falls back to <c>mmap</c> for them (<see cref="CpuBlocks"/> sizes work under that).
/// <see cref="PeakMemory.Reset"/> still returns the freed heap between the runs of one process (<c>malloc_trim</c> ignores
/// the threshold).
/// </para>
/// </remarks>
public static class NativeHeap
{
    /// <summary>mallopt's parameter: the free memory at the top of the heap above which glibc returns it.</summary>
    private const int TrimThreshold = -1;

    /// <summary>mallopt's parameter: the free memory kept when a heap grows or shrinks, and below which an empty thread-arena heap is kept.</summary>
    private const int TopPad = -2;

    /// <summary>mallopt's parameter: how many blocks glibc may serve with mmap at once (0: none).</summary>
    private const int MmapMax = -4;

    /// <summary>
    /// Sets glibc's malloc to serve blocks from its heaps, keep up to 2 GiB of freed memory at the main heap's top and keep
    /// every thread-arena heap once made (a top pad of <see cref="CpuBlocks.ArenaHeapBytes"/>, unless an address-space
    /// limit is set: see the remarks). Call it
    /// once, first thing in the process (it is global and affects allocations made after it). Does nothing, and returns
    /// false, where the C library is not glibc (not Linux, or musl) or where <c>GLIBC_TUNABLES</c> already sets malloc
    /// tunables: the user's setting wins. Never throws.
    /// </summary>
    /// <returns>True when the settings were applied (the top pad only where no address-space limit is set).</returns>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux()) return false;
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.", StringComparison.Ordinal) == true) return false;
        try
        {
            return mallopt(MmapMax, 0) == 1 && mallopt(TrimThreshold, int.MaxValue) == 1 &&
                   (NativeTorchLoader.AddressSpaceLimit() is not null || mallopt(TopPad, (int)CpuBlocks.ArenaHeapBytes) == 1);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException or IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>glibc's <c>int mallopt(int param, int value)</c>: 1 on success, 0 on error.</summary>
    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}
