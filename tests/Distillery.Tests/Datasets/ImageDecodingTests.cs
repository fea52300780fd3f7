using Distillery.Datasets;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Datasets;

/// <summary>What the image-folder loader makes of valid files: EXIF orientation applied, 16-bit PNGs reduced to 8 bits.</summary>
public sealed class ImageDecodingTests
{
    /// <summary>The one training image of a folder holding only <paramref name="file"/>, loaded grey at size 2 as float [1, 1, 2, 2].</summary>
    private static Tensor LoadAlone(TempFolder folder, string name, byte[] file)
    {
        Directory.CreateDirectory(folder.File("train/a"));
        Directory.CreateDirectory(folder.File("test"));
        File.WriteAllBytes(folder.File($"train/a/{name}"), file);
        return new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 2, Channels = 1 }).Train.Images;
    }

    /// <summary>A 16 × 16 grey image of four flat quadrants: top-left 0, top-right 200, bottom-left 50, bottom-right 250.</summary>
    private static byte Quadrants(int x, int y, int c) => (byte)((x < 8 ? 0 : 200) + (y < 8 ? 0 : 50));

    /// <summary>
    /// The quadrants as displayed (top-left, top-right, bottom-left, bottom-right) under each EXIF orientation: 6 is
    /// turned 90° clockwise, so the stored bottom-left (50) comes to the top-left; 8 anticlockwise, bringing the
    /// stored top-right (200) there.
    /// </summary>
    public static TheoryData<ushort, float[]> Orientations => new()
    {
        { 1, [0, 200, 50, 250] },
        { 2, [200, 0, 250, 50] },
        { 3, [250, 50, 200, 0] },
        { 4, [50, 250, 0, 200] },
        { 5, [0, 50, 200, 250] },
        { 6, [50, 0, 250, 200] },
        { 7, [250, 200, 50, 0] },
        { 8, [200, 250, 0, 50] },
    };

    [Theory]
    [MemberData(nameof(Orientations))]
    public void The_exif_orientation_is_applied(ushort orientation, float[] displayed)
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        var images = LoadAlone(folder, "photo.jpg", ImageFiles.WithExifOrientation(ImageFiles.Jpeg(16, 16, 1, Quadrants), orientation));

        // Size 2: each output pixel is the mean of one 8 × 8 quadrant (JPEG is lossy, even at quality 100).
        var pixels = images.reshape(-1).data<float>().ToArray();
        for (var i = 0; i < 4; i++) pixels[i].Should().BeApproximately(displayed[i] / 255f, 3 / 255f, $"quadrant {i}");
    }

    [Fact]
    public void A_sideways_phone_photo_swaps_width_and_height_before_the_crop()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        // Stored 32 wide x 16 high, left half 0 and right half 240; shown (orientation 6) 16 wide x 32 high, so the
        // centre square is the middle of the tall image: its top half is the stored left half, its bottom the right.
        var stored = ImageFiles.Jpeg(32, 16, 1, (x, _, _) => (byte)(x < 16 ? 0 : 240));
        var images = LoadAlone(folder, "photo.jpg", ImageFiles.WithExifOrientation(stored, 6));

        var pixels = images.reshape(-1).data<float>().ToArray();
        pixels.Should().BeEquivalentTo([0f, 0f, 240 / 255f, 240 / 255f], o => o.Using<float>(c => c.Subject.Should().BeApproximately(c.Expectation, 3 / 255f)).WhenTypeIs<float>());
    }

    [Fact]
    public void A_16_bit_png_keeps_the_high_byte_of_each_sample()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        // 2 x 2 grey, 16 bits per sample, big-endian, filter 0 on each row.
        byte[] rows = [0, 0x12, 0x34, 0xAB, 0xCD, 0, 0xFF, 0xFF, 0x00, 0xFF];
        var images = LoadAlone(folder, "deep.png", ImageFiles.PngFile(ImageFiles.Ihdr(2, 2, 16, 0), ImageFiles.Zlib(rows)));

        images.reshape(-1).data<float>().ToArray().Should().Equal(0x12 / 255f, 0xAB / 255f, 0xFF / 255f, 0x00 / 255f);
    }
}
