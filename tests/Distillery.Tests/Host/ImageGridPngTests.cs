using Distillery.Engine.Outputs;
using FluentAssertions;
using StbImageSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Host;

/// <summary>distilled.png shows pixel space clipped to [0, 1]; distilled.safetensors keeps the unclipped values.</summary>
public sealed class ImageGridPngTests
{
    [Fact]
    public void Values_outside_zero_one_are_clipped_in_the_grid()
    {
        using var scope = NewDisposeScope();
        var folder = Directory.CreateTempSubdirectory("distillery-grid-").FullName;
        try
        {
            // Three 1 x 1 grey images, one per class (row): below 0, inside, above 1.
            var images = tensor(new float[] { -0.5f, 0.25f, 1.7f }, [3, 1, 1, 1]);
            var path = Path.Combine(folder, "grid.png");

            ImageGridPng.Write(path, images, tensor(new long[] { 0, 1, 2 }), 3);

            var png = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlue);
            // 1 x 1 images are enlarged 64 times; rows start at 2 + 66·row (a 2-pixel gap around each cell).
            byte At(int row) => png.Data[((2 + 66 * row) * png.Width + 2) * 3];
            At(0).Should().Be(0);
            At(1).Should().Be(64); // round(0.25 · 255)
            At(2).Should().Be(255);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
