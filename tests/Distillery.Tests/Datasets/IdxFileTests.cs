using Distillery.Abstractions;
using Distillery.Datasets;
using FluentAssertions;
using Xunit;
using static Distillery.Tests.Datasets.IdxTestFiles;

namespace Distillery.Tests.Datasets;

public sealed class IdxFileTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_and_labels_exactly(bool gzip)
    {
        var pixels = Pixels(3, 4, 5);
        var imagesPath = Write(_temp.Path, "images", Images(3, 4, 5, pixels), gzip);
        var labelsPath = Write(_temp.Path, "labels", Labels([9, 0, 4]), gzip);

        var images = IdxFile.ReadImages(imagesPath);
        var labels = IdxFile.ReadLabels(labelsPath);

        images.Dimensions.Should().Equal(3, 4, 5);
        images.Data.Should().Equal(pixels);
        images.Source.Should().Be(imagesPath);
        labels.Dimensions.Should().Equal(3);
        labels.Data.Should().Equal(9, 0, 4);
    }

    [Fact]
    public void Gzip_is_detected_by_content_not_extension()
    {
        var raw = Images(2, 3, 3, Pixels(2, 3, 3));
        var gzNamedRaw = _temp.File("plain.gz");
        var rawNamedPlain = _temp.File("compressed");
        File.WriteAllBytes(gzNamedRaw, raw);
        File.WriteAllBytes(rawNamedPlain, Gzip(raw));

        IdxFile.ReadImages(gzNamedRaw).Data.Should().Equal(IdxFile.ReadImages(rawNamedPlain).Data);
    }

    [Fact]
    public void Reads_from_a_non_seekable_stream_with_a_display_name()
    {
        var raw = Labels([1, 2, 3]);
        using var stream = new NonSeekableStream(Gzip(raw));

        IdxFile.ReadLabels(stream, "somewhere/labels").Data.Should().Equal(1, 2, 3);
    }

    [Fact]
    public void Wrong_magic_says_what_was_found_and_expected()
    {
        var path = Write(_temp.Path, "labels-as-images", Labels([1, 2]), gzip: false);

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(path));

        error.Path.Should().Be(path);
        error.Message.Should().Contain(path).And.Contain("wrong magic number")
            .And.Contain("0x00000801").And.Contain("0x00000803");
    }

    [Fact]
    public void A_file_that_is_not_idx_at_all_is_a_wrong_magic()
    {
        var path = _temp.File("text");
        File.WriteAllText(path, "hello, this is not an IDX file");

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadLabels(path));

        error.Message.Should().Contain(path).And.Contain("wrong magic number").And.Contain("not an IDX file");
    }

    [Fact]
    public void Non_byte_element_type_is_unsupported()
    {
        var path = Write(_temp.Path, "floats", Encode(0x00000D03, [1, 1, 1], new byte[4]), gzip: false);

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(path));

        error.Message.Should().Contain(path).And.Contain("unsupported element type 0x0D").And.Contain("float32");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_data_says_expected_and_present_bytes(bool gzip)
    {
        var full = Images(2, 4, 4, Pixels(2, 4, 4));
        var path = Write(_temp.Path, "short", full[..(full.Length - 10)], gzip);

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(path));

        error.Message.Should().Contain(path).And.Contain("truncated").And.Contain("32 bytes").And.Contain("found 22");
    }

    [Fact]
    public void Truncated_header_is_reported()
    {
        var path = Write(_temp.Path, "header", Images(2, 4, 4, Pixels(2, 4, 4))[..9], gzip: false);

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(path));

        error.Message.Should().Contain(path).And.Contain("truncated").And.Contain("16 bytes").And.Contain("found 9");
    }

    [Fact]
    public void Empty_file_is_truncated()
    {
        var path = _temp.File("empty");
        File.WriteAllBytes(path, []);

        Assert.Throws<DataFormatException>(() => IdxFile.ReadLabels(path)).Message
            .Should().Contain(path).And.Contain("truncated");
    }

    [Fact]
    public void Gzip_cut_in_the_middle_of_the_compressed_data_is_reported()
    {
        var compressed = Gzip(Images(50, 28, 28, Pixels(50, 28, 28)));
        var path = _temp.File("cut.gz");
        File.WriteAllBytes(path, compressed[..(compressed.Length / 2)]);

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(path));

        error.Message.Should().Contain(path).And.MatchRegex("truncated|corrupt gzip");
    }

    [Fact]
    public void Corrupt_gzip_is_reported()
    {
        var compressed = Gzip(Images(50, 28, 28, Pixels(50, 28, 28)));
        for (var i = 10; i < compressed.Length - 8; i++) compressed[i] ^= 0x5A;
        var path = _temp.File("garbled.gz");
        File.WriteAllBytes(path, compressed);

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(path));

        error.Message.Should().Contain(path).And.MatchRegex("corrupt gzip|truncated|magic|dimension");
    }

    [Theory]
    [InlineData(-1, 28, 28, "invalid dimension 0 = -1")]
    [InlineData(5, 0, 28, "invalid dimension 1 = 0")]
    [InlineData(int.MaxValue, int.MaxValue, 28, "absurd dimensions")]
    public void Negative_or_absurd_dimensions_are_reported(int count, int rows, int cols, string problem)
    {
        var path = Write(_temp.Path, "dims", Encode(0x803, [count, rows, cols], new byte[16]), gzip: true);

        var error = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(path));

        error.Message.Should().Contain(path).And.Contain(problem);
    }

    [Fact]
    public void Bytes_beyond_the_described_data_are_reported()
    {
        var path = Write(_temp.Path, "long", Labels([1, 2, 3]).Concat(new byte[5]).ToArray(), gzip: false);

        Assert.Throws<DataFormatException>(() => IdxFile.ReadLabels(path)).Message
            .Should().Contain(path).And.Contain("5 unexpected bytes");
    }

    [Fact]
    public void Missing_file_is_reported_with_its_path()
    {
        var path = _temp.File("nope");

        Assert.Throws<DataFormatException>(() => IdxFile.ReadLabels(path)).Message
            .Should().Contain(path).And.Contain("not found");
    }

    /// <summary>A stream that cannot seek, like a network or pipe stream.</summary>
    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
        public override long Seek(long offset, SeekOrigin loc) => throw new NotSupportedException();
        public override long Position { get => base.Position; set => throw new NotSupportedException(); }
        public override long Length => throw new NotSupportedException();
    }
}
