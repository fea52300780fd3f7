using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Numerics;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Numerics;

/// <summary>Blocks of CPU work sized so that each activation stays within glibc's thread-arena heaps.</summary>
public sealed class CpuBlocksTests
{
    [Theory]
    [InlineData(3, 0, 32, 3 * 32 * 32)]   // no conv blocks: the input is the largest
    [InlineData(1, 2, 28, 64 * 28 * 28)]  // the first conv's output, at full resolution
    [InlineData(3, 3, 8, 64 * 8 * 8)]     // pools shrink 8 → 4 → 2 → 1: the first conv's output again
    public void A_convnet_s_largest_activation_is_its_input_or_a_conv_output(int channels, int depth, int size, long expected) =>
        Architecture.ConvNet(depth, 64, 10, 1, 0, pooling: new Layer.AvgPool(2), readout: new Layer.Flatten())
            .LargestActivation(FeatureShape.Image(channels, size, size)).Should().Be(expected);

    [Fact]
    public void A_fully_connected_network_s_largest_activation_is_its_input_or_its_width()
    {
        Architecture.FullyConnected(2, 512, 10, 1, 0).LargestActivation(FeatureShape.Image(1, 28, 28)).Should().Be(784);
        Architecture.FullyConnected(2, 1024, 10, 1, 0).LargestActivation(FeatureShape.Image(1, 28, 28)).Should().Be(1024);
    }

    [Fact]
    public void Cpu_blocks_keep_each_activation_within_32_MiB()
    {
        CpuBlocks.Examples(64 * 28 * 28, float32, DeviceType.CPU, 500).Should().Be(167, "⌊2^25 / (50,176 · 4)⌋");
        CpuBlocks.Examples(64 * 28 * 28, float64, DeviceType.CPU, 500).Should().Be(83, "twice the bytes per value");
        CpuBlocks.Examples(64 * 28 * 28, float32, DeviceType.CPU, 100).Should().Be(100, "never more than asked for");
        CpuBlocks.Examples(1L << 30, float32, DeviceType.CPU, 500).Should().Be(1, "one example larger than the limit still runs");
        CpuBlocks.Examples(64 * 28 * 28, float32, DeviceType.CUDA, 500).Should().Be(500, "CUDA's caching allocator reuses any block");
        FluentActions.Invoking(() => CpuBlocks.Examples(0, float32, DeviceType.CPU, 500)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => CpuBlocks.Examples(1, float32, DeviceType.CPU, 0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
