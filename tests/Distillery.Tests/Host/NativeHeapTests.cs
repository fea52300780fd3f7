using System.Runtime.InteropServices;
using Distillery.Engine.Runs;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>
/// After <see cref="NativeHeap.KeepFreedMemory"/>, a freed 40 MiB block (larger than glibc's largest mmap threshold,
/// 32 MiB, so by default always a fresh mapping) is served from the heap, and allocating it again touches pages that
/// are already resident: a handful of page faults instead of one per 4 KiB page. The same holds on a thread of its own,
/// whose thread-arena heap the free leaves empty.
/// </summary>
[Collection(NativeHeapCollection.Name)]
public sealed class NativeHeapTests
{
    private const int BlockBytes = 40 << 20, PageBytes = 4096;

    [Fact]
    public void A_freed_block_above_the_mmap_threshold_is_reused_from_the_heap_without_page_faults()
    {
        if (!OperatingSystem.IsLinux()) return; // glibc only; the CI runs on Debian

        NativeHeap.KeepFreedMemory().Should().BeTrue("this is glibc, and the test environment sets no GLIBC_TUNABLES");

        // Only attempts that get the freed block back at its own address say anything about its pages: under contention
        // glibc may serve this thread from another arena, whose fresh heap pages fault whatever the setting, and a
        // stray allocation on a thread sharing the arena can take part of the block in between. Up to 20 attempts.
        var attempts = Enumerable.Range(0, 20).Select(_ => Reallocate()).Where(a => a.SameBlock).Take(3).ToList();
        attempts.Should().NotBeEmpty("glibc hands a freed block straight back to the next allocation of its size");
        attempts.Min(a => a.Mapped).Should().BeLessThan(BlockBytes, "the block comes from the heap, not from a fresh mmap");
        attempts.Min(a => a.Faults).Should().BeLessThan(BlockBytes / PageBytes / 10,
            $"a fresh mapping of 40 MiB takes {BlockBytes / PageBytes} faults; the reused heap pages are resident");
    }

    [Fact]
    public void A_thread_arena_heap_emptied_by_a_free_is_kept_for_the_next_allocation()
    {
        if (!OperatingSystem.IsLinux()) return; // glibc only; the CI runs on Debian

        NativeHeap.KeepFreedMemory().Should().BeTrue("this is glibc, and the test environment sets no GLIBC_TUNABLES");

        // A fresh thread, as a run's pool thread: glibc gives it an arena of its own, of heaps of at most 64 MiB. Two
        // 40 MiB blocks cannot share one heap, so the second makes a new heap that freeing it leaves empty; glibc's
        // default top pad would delete that heap there and then, and the next allocation would fault in a new one.
        var attempts = new List<(bool SameBlock, long Faults)>();
        var thread = new Thread(() =>
        {
            for (var attempt = 0; attempt < 20 && attempts.Count(a => a.SameBlock) < 3; attempt++)
            {
                var first = Marshal.AllocHGlobal(BlockBytes);
                Touch(first);
                var emptied = TouchAndFree();
                var faultsBefore = ThreadMinorFaults();
                var again = Marshal.AllocHGlobal(BlockBytes);
                Touch(again);
                attempts.Add((again == emptied, ThreadMinorFaults() - faultsBefore));
                Marshal.FreeHGlobal(again);
                Marshal.FreeHGlobal(first);
            }
        });
        thread.Start();
        thread.Join();

        var sameBlock = attempts.Where(a => a.SameBlock).ToList();
        sameBlock.Should().NotBeEmpty("glibc hands a freed block straight back to the next allocation of its size");
        sameBlock.Min(a => a.Faults).Should().BeLessThan(BlockBytes / PageBytes / 10,
            $"a fresh heap of 40 MiB takes {BlockBytes / PageBytes} faults; the kept heap's pages are resident");
    }

    /// <summary>
    /// Allocates, touches and frees the block twice; returns whether the second allocation got the first one's address,
    /// and the bytes newly mapped and this thread's page faults the second time.
    /// </summary>
    private static (bool SameBlock, long Mapped, long Faults) Reallocate()
    {
        var first = TouchAndFree(); // the first allocation may grow the heap: its page faults are expected
        var mappedBefore = mallinfo2().hblkhd;
        var faultsBefore = ThreadMinorFaults();
        var block = Marshal.AllocHGlobal(BlockBytes); // malloc on Unix
        var mapped = (long)mallinfo2().hblkhd - (long)mappedBefore;
        Touch(block);
        var faults = ThreadMinorFaults() - faultsBefore;
        Marshal.FreeHGlobal(block);
        return (block == first, mapped, faults);
    }

    /// <summary>Allocates, touches and frees the block; returns the address it had.</summary>
    private static IntPtr TouchAndFree()
    {
        var block = Marshal.AllocHGlobal(BlockBytes); // malloc on Unix
        Touch(block);
        Marshal.FreeHGlobal(block);
        return block;
    }

    /// <summary>Writes one byte per page, as a kernel writing its output does.</summary>
    private static void Touch(IntPtr block)
    {
        for (var offset = 0; offset < BlockBytes; offset += PageBytes) Marshal.WriteByte(block, offset, 1);
    }

    /// <summary>This thread's minor page faults: field 10 of /proc/thread-self/stat (after the parenthesised name).</summary>
    private static long ThreadMinorFaults()
    {
        var stat = File.ReadAllText("/proc/thread-self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], System.Globalization.CultureInfo.InvariantCulture); // fields[0] is field 3 (state)
    }

    /// <summary>glibc's struct mallinfo2 (2.33+): hblkhd is the bytes held in mmapped blocks, over the whole process.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
    }

    [DllImport("libc")]
    private static extern MallInfo2 mallinfo2();
}

/// <summary>
/// The native-heap test runs apart from every other collection: an in-process run starting on another thread calls
/// <c>malloc_trim</c> (<see cref="PeakMemory.Reset"/>), which hands the freed block's pages back to the kernel between
/// the test's free and its next allocation.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NativeHeapCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Native heap (serial)";
}
