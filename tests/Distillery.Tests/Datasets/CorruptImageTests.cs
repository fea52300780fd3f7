using Distillery.Abstractions;
using Distillery.Datasets;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Datasets;

/// <summary>
/// A file a strict decoder rejects is corrupt: it follows onBadFile (fail, or skip with a warning), and its message is
/// readable text naming the file and the problem. Before, a cut JPEG loaded with its missing half grey.
/// </summary>
public sealed class CorruptImageTests
{
    private static byte Pattern(int x, int y, int c) => (byte)((x * 7 + y * 13 + c * 50 + x * y) % 256);

    private static readonly byte[] GoodJpeg = ImageFiles.Jpeg(64, 64, 3, Pattern);
    private static readonly byte[] GoodPng = ImageFiles.Png(64, 64, 3, Pattern);

    /// <summary>8 × 8 grey scanlines with the given filter byte before each row.</summary>
    private static byte[] RawGreyRows(byte filter = 0) =>
        [.. Enumerable.Range(0, 8).SelectMany(y => (byte[])[filter, .. Enumerable.Range(0, 8).Select(x => (byte)(x * 30 + y))])];

    private static byte[] GreyPng(byte[] zlib) => ImageFiles.PngFile(ImageFiles.Ihdr(8, 8, 8, 0), zlib);

    private static byte[] Damaged(byte[] file, int offset, byte[] replacement)
    {
        var copy = (byte[])file.Clone();
        replacement.CopyTo(copy, offset);
        return copy;
    }

    public static TheoryData<string, string, byte[], string> Cases()
    {
        var scan = ImageFiles.ScanDataOffset(GoodJpeg);
        var idat = ImageFiles.IdatDataOffset(GoodPng);
        var zlib = ImageFiles.Zlib(RawGreyRows());
        return new()
        {
            { "JPEG cut at 60%", "cut.jpg", GoodJpeg[..(GoodJpeg.Length * 6 / 10)], "corrupt JPEG: Premature end of JPEG file" },
            { "JPEG without its EOI marker", "no-eoi.jpg", GoodJpeg[..^2], "corrupt JPEG: Premature end of JPEG file" },
            // All-one bits (0xFF stuffed as FF 00) are never a valid Huffman code.
            { "JPEG with broken entropy data", "entropy.jpg", Damaged(GoodJpeg, scan + 200, [.. Enumerable.Repeat<byte[]>([0xFF, 0x00], 16).SelectMany(b => b)]), "corrupt JPEG: Corrupt JPEG data" },
            { "PNG cut at 60%", "cut.png", GoodPng[..(GoodPng.Length * 6 / 10)], "the file is cut off" },
            { "PNG with a bad CRC", "crc.png", Damaged(GoodPng, idat + 20, [(byte)~GoodPng[idat + 20]]), "chunk 'IDAT' at byte 33 fails its CRC check" },
            { "PNG whose zlib checksum is wrong (chunk CRCs right)", "adler.png", GreyPng([.. zlib[..^4], 0, 0, 0, 0]), "the IDAT zlib data is corrupt" },
            { "PNG whose zlib stream is cut (chunk CRCs right)", "short.png", GreyPng(zlib[..^12]), "IDAT data cut off or corrupt" },
            { "PNG with a scanline filter byte of 7", "filter.png", GreyPng(ImageFiles.Zlib(RawGreyRows(filter: 7))), "scanline filter type 7" },
            { "PNG without IDAT", "empty.png", [.. ImageFiles.PngSignature, .. ImageFiles.Ihdr(8, 8, 8, 0), .. ImageFiles.Chunk("IEND", [])], "no IDAT chunk" },
            { "GIF named .png", "animation.png", [.. "GIF89a"u8, 1, 0, 1, 0, 0, 0, 0], "not a PNG or JPEG file (it starts with bytes 47494638)" },
        };
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_corrupt_file_fails_with_a_readable_message_naming_it(string damage, string name, byte[] file, string expected)
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("train/a"));
        Directory.CreateDirectory(folder.File("test"));
        File.WriteAllBytes(folder.File("train/a/good.png"), GoodPng);
        File.WriteAllBytes(folder.File($"train/a/{name}"), file);

        var load = () => new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 8 });

        var error = load.Should().Throw<DataFormatException>(damage).Which;
        error.Path.Should().Be(folder.File($"train/a/{name}"));
        error.Message.Should().Contain(expected, damage).And.Contain("onBadFile");
        error.Message.Any(char.IsControl).Should().BeFalse("the message is readable text");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void With_skip_a_corrupt_file_is_left_out_with_a_warning(string damage, string name, byte[] file, string expected)
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("train/a"));
        Directory.CreateDirectory(folder.File("test"));
        File.WriteAllBytes(folder.File("train/a/good.png"), GoodPng);
        File.WriteAllBytes(folder.File($"train/a/{name}"), file);
        var logger = new RecordingLogger();

        var train = new ImageFolderDataset().Load(new() { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = logger },
            new ImageFolderOptions { Path = folder.Path, Size = 8, OnBadFile = BadFilePolicy.Skip }).Train;

        train.Count.Should().Be(1, damage);
        logger.Warnings.Should().ContainSingle().Which.Should().Contain(name).And.Contain(expected);
    }

    [Fact]
    public void The_undamaged_files_pass_the_strict_checks()
    {
        JpegStructure.Problem(GoodJpeg).Should().BeNull();
        PngStructure.Problem(GoodPng).Should().BeNull();
        PngStructure.Problem(GreyPng(ImageFiles.Zlib(RawGreyRows(filter: 4)))).Should().BeNull();
    }
}
