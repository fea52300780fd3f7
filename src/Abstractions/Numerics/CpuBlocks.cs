using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Numerics;

/// <summary>
/// Sizes blocks of CPU tensor work so that glibc keeps their memory for reuse. A run's tensor work runs on a pool
/// thread, whose <c>malloc</c> serves it from that thread's arena: heaps of 64 MiB. glibc maps any larger block with a
/// fresh <c>mmap</c> and unmaps it when freed, whatever the host's heap setting (README "Native heap"), so every step that
/// allocates one faults in all its pages again. A 50-per-class KIP step with <c>convnet-rf</c> (500 support images, width
/// 64, 28×28: a 100 MB first-layer activation) took 2.25 s that way and 0.63 s in blocks under
/// <see cref="ActivationBytes"/>, with the same losses.
/// </summary>
public static class CpuBlocks
{
    /// <summary>The size of a glibc thread-arena heap (64-bit): a block larger than this is always mapped afresh.</summary>
    public const long ArenaHeapBytes = 64L << 20;

    /// <summary>The most bytes one activation of a block should take on the CPU: half an arena heap, so it fits beside others.</summary>
    public const long ActivationBytes = ArenaHeapBytes / 2;

    /// <summary>
    /// Whether one activation of a block of <paramref name="examples"/> would exceed <see cref="ArenaHeapBytes"/> on the
    /// CPU, so that glibc maps it afresh at every use: work whose result depends on how it is split (a training batch's
    /// summed gradient) splits only such blocks, into <see cref="Examples"/>, and so keeps its results where it need not.
    /// Always false off the CPU.
    /// </summary>
    /// <param name="valuesPerExample">Values in the largest activation of one example.</param>
    /// <param name="dtype">The activations' dtype.</param>
    /// <param name="device">Where the work runs.</param>
    /// <param name="examples">Examples in the block.</param>
    public static bool Mapped(long valuesPerExample, ScalarType dtype, DeviceType device, long examples) =>
        device == DeviceType.CPU && examples * valuesPerExample * ElementBytes(dtype) > ArenaHeapBytes;

    /// <summary>
    /// Examples per block: <paramref name="atMost"/> off the CPU (CUDA's caching allocator reuses blocks of any size);
    /// on the CPU the most, between 1 and <paramref name="atMost"/>, whose largest activation stays within
    /// <see cref="ActivationBytes"/>.
    /// </summary>
    /// <param name="valuesPerExample">Values in the largest activation of one example (e.g. <see cref="Architectures.Architecture.LargestActivation"/>).</param>
    /// <param name="dtype">The activations' dtype.</param>
    /// <param name="device">Where the work runs.</param>
    /// <param name="atMost">The block size asked for, ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="valuesPerExample"/> or <paramref name="atMost"/> is below 1.</exception>
    public static long Examples(long valuesPerExample, ScalarType dtype, DeviceType device, long atMost)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(valuesPerExample, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(atMost, 1);
        if (device != DeviceType.CPU) return atMost;
        return Math.Clamp(ActivationBytes / (valuesPerExample * ElementBytes(dtype)), 1, atMost);
    }

    private static long ElementBytes(ScalarType dtype)
    {
        using var probe = empty(0, dtype: dtype);
        return probe.element_size();
    }
}
