using System.IO.Compression;
using Distillery.Abstractions;

namespace Distillery.Datasets;

/// <summary>
/// Reads IDX files (the MNIST layout, http://yann.lecun.com/exdb/mnist/): a big-endian magic number
/// 0x0000TTRR (T = element type, R = rank), R big-endian int32 dimensions, then the data. Only unsigned
/// bytes are supported, which is what the MNIST family uses. Files may be raw or gzip (detected by the
/// 0x1f 0x8b header, not by extension). Every malformed input raises <see cref="DataFormatException"/>
/// naming the file and the problem, so the user never sees an index-out-of-range.
/// </summary>
public static class IdxFile
{
    /// <summary>Magic number of a 3-D unsigned-byte array (images).</summary>
    public const int UInt8ImagesMagic = 0x00000803;

    /// <summary>Magic number of a 1-D unsigned-byte array (labels).</summary>
    public const int UInt8LabelsMagic = 0x00000801;

    private const byte UInt8Type = 0x08;

    // A header asking for more than the largest .NET array is corrupt rather than a real dataset.
    private static readonly long MaxDataBytes = Array.MaxLength;

    // Gzip data is decompressed into a growing buffer, so that a corrupt header claiming gigabytes
    // cannot make a tiny file allocate them up front.
    private const int InitialGzipBuffer = 16 << 20;

    private static readonly Dictionary<byte, string> ElementTypes = new()
    {
        [0x08] = "unsigned byte", [0x09] = "signed byte", [0x0B] = "int16",
        [0x0C] = "int32", [0x0D] = "float32", [0x0E] = "float64",
    };

    public static IdxArray ReadImages(string path) => ReadFile(path, UInt8ImagesMagic);
    public static IdxArray ReadLabels(string path) => ReadFile(path, UInt8LabelsMagic);

    /// <summary>Reads images from a stream; <paramref name="displayName"/> names it in error messages.</summary>
    public static IdxArray ReadImages(Stream stream, string displayName) => Read(stream, displayName, UInt8ImagesMagic);

    /// <summary>Reads labels from a stream; <paramref name="displayName"/> names it in error messages.</summary>
    public static IdxArray ReadLabels(Stream stream, string displayName) => Read(stream, displayName, UInt8LabelsMagic);

    /// <summary>Reads the file at <paramref name="path"/>, which must carry <paramref name="expectedMagic"/>.</summary>
    public static IdxArray ReadFile(string path, int expectedMagic)
    {
        using var stream = OpenFile(path);
        return Read(stream, path, expectedMagic);
    }

    /// <summary>
    /// A cheap check of the file at <paramref name="path"/> without reading its data: it opens, its header parses
    /// with <paramref name="expectedMagic"/>, and a raw file's length is exactly what the header describes (a gzip
    /// file's length is only known once decompressed). Returns the array with its dimensions and no data.
    /// </summary>
    public static IdxArray CheckFile(string path, int expectedMagic)
    {
        using var stream = OpenFile(path);
        return Parse(stream, path, expectedMagic, readData: false);
    }

    /// <summary>Like <see cref="CheckFile"/>, for a stream (raw or gzip) named <paramref name="displayName"/> in messages.</summary>
    public static IdxArray CheckHeader(Stream stream, string displayName, int expectedMagic) =>
        Parse(stream, displayName, expectedMagic, readData: false);

    /// <summary>Reads one IDX array from <paramref name="stream"/> (raw or gzip), which must carry <paramref name="expectedMagic"/>.</summary>
    public static IdxArray Read(Stream stream, string displayName, int expectedMagic) =>
        Parse(stream, displayName, expectedMagic, readData: true);

    private static FileStream OpenFile(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new DataFormatException(path, "file not found");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot be opened: {e.Message}");
        }
    }

    /// <summary>The header, then (with <paramref name="readData"/>) the data; without it the data is empty.</summary>
    private static IdxArray Parse(Stream stream, string displayName, int expectedMagic, bool readData)
    {
        var compressed = false;
        try
        {
            compressed = IsGzip(ref stream);
            // The caller owns the stream; only the decompressor we create is ours to dispose.
            using var gzip = compressed ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true) : null;
            var content = gzip ?? stream;
            var dimensions = ReadHeader(content, displayName, expectedMagic);
            var expectedBytes = DataBytes(dimensions);
            if (!readData)
            {
                if (compressed || !content.CanSeek) return new IdxArray(displayName, dimensions, []);
                var present = content.Length - content.Position;
                if (present < expectedBytes) throw Truncated(displayName, dimensions, expectedBytes, present, compressed);
                content.Seek(expectedBytes, SeekOrigin.Current);
                EnsureNothingFollows(content, displayName, dimensions, compressed);
                return new IdxArray(displayName, dimensions, []);
            }
            var data = ReadData(content, displayName, dimensions, expectedBytes, compressed);
            EnsureNothingFollows(content, displayName, dimensions, compressed);
            return new IdxArray(displayName, dimensions, data);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(displayName, $"corrupt gzip data: {e.Message}");
        }
        catch (IOException e)
        {
            throw new DataFormatException(displayName, $"read failed{(compressed ? " (gzip)" : "")}: {e.Message}");
        }
    }

    /// <summary>Peeks at the first two bytes; non-seekable streams are buffered so the peek can be undone.</summary>
    private static bool IsGzip(ref Stream stream)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }
        var start = stream.Position;
        Span<byte> head = stackalloc byte[2];
        var read = stream.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        stream.Position = start;
        return read == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    private static int[] ReadHeader(Stream content, string name, int expectedMagic)
    {
        var expectedRank = expectedMagic & 0xFF;
        var headerBytes = 4 + 4 * expectedRank;
        Span<byte> word = stackalloc byte[4];

        var got = content.ReadAtLeast(word, 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataFormatException(name,
                $"truncated: an IDX header needs {headerBytes} bytes, found {got}");
        var magic = ReadBigEndian(word);
        CheckMagic(name, magic, expectedMagic);

        var dimensions = new int[expectedRank];
        for (var i = 0; i < expectedRank; i++)
        {
            got = content.ReadAtLeast(word, 4, throwOnEndOfStream: false);
            if (got < 4)
                throw new DataFormatException(name,
                    $"truncated: an IDX header needs {headerBytes} bytes, found {4 + 4 * i + got}");
            dimensions[i] = ReadBigEndian(word);
        }
        CheckDimensions(name, dimensions);
        return dimensions;
    }

    private static void CheckMagic(string name, int magic, int expectedMagic)
    {
        var expected = $"0x{expectedMagic:X8} ({Describe(expectedMagic)})";
        var typeCode = (byte)(magic >> 8);
        if ((magic >> 16) != 0 || !ElementTypes.TryGetValue(typeCode, out var typeName))
            throw new DataFormatException(name,
                $"wrong magic number 0x{magic:X8}, expected {expected}: not an IDX file");
        if (typeCode != UInt8Type)
            throw new DataFormatException(name,
                $"unsupported element type 0x{typeCode:X2} ({typeName}) in magic number 0x{magic:X8}; " +
                $"only unsigned bytes (0x08) are supported, expected {expected}");
        if (magic != expectedMagic)
            throw new DataFormatException(name,
                $"wrong magic number 0x{magic:X8} ({Describe(magic)}), expected {expected}");
    }

    private static string Describe(int magic) => (magic & 0xFF) switch
    {
        1 => "unsigned-byte labels, 1 dimension",
        3 => "unsigned-byte images, 3 dimensions",
        var rank => $"{ElementTypes.GetValueOrDefault((byte)(magic >> 8), "unknown type")}, {rank} dimensions",
    };

    private static void CheckDimensions(string name, int[] dimensions)
    {
        for (var i = 0; i < dimensions.Length; i++)
        {
            // The count may be 0 (an empty split); an image of 0 rows or columns is a corrupt header.
            if (dimensions[i] < 0 || (i > 0 && dimensions[i] == 0))
                throw new DataFormatException(name,
                    $"invalid dimension {i} = {dimensions[i]} in the header ({Shape(dimensions)})");
        }
        if (DataBytes(dimensions) > MaxDataBytes)
            throw new DataFormatException(name,
                $"absurd dimensions {Shape(dimensions)}, more than the {MaxDataBytes:N0} bytes an IDX array can hold here; the header is corrupt");
    }

    private static byte[] ReadData(Stream content, string name, int[] dimensions, long expectedBytes, bool compressed)
    {
        // Raw files: compare with the file length before allocating, so a truncated file fails at once.
        if (!compressed && content.CanSeek)
        {
            var present = content.Length - content.Position;
            if (present < expectedBytes) throw Truncated(name, dimensions, expectedBytes, present, compressed);
        }

        var buffer = new byte[compressed ? Math.Min(expectedBytes, InitialGzipBuffer) : expectedBytes];
        var filled = 0;
        while (filled < expectedBytes)
        {
            if (filled == buffer.Length) Array.Resize(ref buffer, (int)Math.Min(expectedBytes, 2L * buffer.Length));
            var read = content.Read(buffer, filled, buffer.Length - filled);
            if (read == 0) throw Truncated(name, dimensions, expectedBytes, filled, compressed);
            filled += read;
        }
        return buffer;
    }

    private static DataFormatException Truncated(string name, int[] dimensions, long expected, long present, bool compressed) =>
        new(name, $"truncated: the header ({Shape(dimensions)}) needs {expected:N0} bytes of data, " +
                  $"found {present:N0}{(compressed ? " after decompression" : "")}");

    /// <summary>Extra bytes mean the header's dimensions are wrong, so the data would be misread.</summary>
    private static void EnsureNothingFollows(Stream content, string name, int[] dimensions, bool compressed)
    {
        long extra;
        if (!compressed && content.CanSeek) extra = content.Length - content.Position;
        else
        {
            extra = 0;
            var scratch = new byte[1 << 16];
            int read;
            while ((read = content.Read(scratch)) > 0) extra += read;
        }
        if (extra > 0)
            throw new DataFormatException(name,
                $"{extra:N0} unexpected bytes after the data described by the header ({Shape(dimensions)}); the header or the file is corrupt");
    }

    /// <summary>The product of non-negative dimensions, saturating just past the limit so that it cannot overflow.</summary>
    private static long DataBytes(int[] dimensions)
    {
        var product = 1L;
        foreach (var d in dimensions)
        {
            product *= d;
            if (product > MaxDataBytes) return MaxDataBytes + 1;
        }
        return product;
    }

    private static int ReadBigEndian(ReadOnlySpan<byte> word) => System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(word);

    private static string Shape(int[] dimensions) => string.Join(" x ", dimensions);
}
