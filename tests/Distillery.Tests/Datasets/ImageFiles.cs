using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using StbImageWriteSharp;

namespace Distillery.Tests.Datasets;

/// <summary>
/// PNG and JPEG files for the image-folder tests, built byte by byte where a test needs control over the structure
/// (PNG chunks with their CRC-32 per the PNG specification; a JPEG's EXIF APP1 segment per EXIF 2.32).
/// </summary>
internal static class ImageFiles
{
    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>A JPEG (quality 100) of an interleaved 8-bit image, encoded by StbImageWriteSharp.</summary>
    public static byte[] Jpeg(int width, int height, int channels, Func<int, int, int, byte> pixel) =>
        Encode(width, height, channels, pixel, (writer, data, components, stream) => writer.WriteJpg(data, width, height, components, stream, 100));

    /// <summary>A PNG of an interleaved 8-bit image, encoded by StbImageWriteSharp.</summary>
    public static byte[] Png(int width, int height, int channels, Func<int, int, int, byte> pixel) =>
        Encode(width, height, channels, pixel, (writer, data, components, stream) => writer.WritePng(data, width, height, components, stream));

    private static byte[] Encode(int width, int height, int channels, Func<int, int, int, byte> pixel,
        Action<ImageWriter, byte[], ColorComponents, Stream> write)
    {
        var data = new byte[width * height * channels];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                for (var c = 0; c < channels; c++)
                    data[(y * width + x) * channels + c] = pixel(x, y, c);
        using var stream = new MemoryStream();
        write(new ImageWriter(), data, channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue, stream);
        return stream.ToArray();
    }

    /// <summary>One PNG chunk: length, type, data, CRC-32 of type and data.</summary>
    public static byte[] Chunk(string type, byte[] data)
    {
        var chunk = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)data.Length);
        Encoding.ASCII.GetBytes(type, chunk.AsSpan(4));
        data.CopyTo(chunk, 8);
        BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32.HashToUInt32(chunk.AsSpan(4, 4 + data.Length)));
        return chunk;
    }

    public static byte[] Ihdr(int width, int height, byte bitDepth, byte colourType)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), (uint)height);
        (data[8], data[9]) = (bitDepth, colourType);
        return Chunk("IHDR", data);
    }

    public static byte[] Zlib(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal)) zlib.Write(raw);
        return output.ToArray();
    }

    /// <summary>A PNG file from its chunks: signature, IHDR, IDAT (the zlib stream given), IEND.</summary>
    public static byte[] PngFile(byte[] ihdr, byte[] idatData) =>
        [.. PngSignature, .. ihdr, .. Chunk("IDAT", idatData), .. Chunk("IEND", [])];

    /// <summary>The offset of the first IDAT chunk's data in a PNG file.</summary>
    public static int IdatDataOffset(byte[] png)
    {
        for (var position = PngSignature.Length; ;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(position));
            if (Encoding.ASCII.GetString(png, position + 4, 4) == "IDAT") return position + 8;
            position += 12 + length;
        }
    }

    /// <summary>The offset of a JPEG's entropy-coded data: just past the SOS segment.</summary>
    public static int ScanDataOffset(byte[] jpeg)
    {
        for (var position = 2; ;)
        {
            var marker = jpeg[position + 1];
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(position + 2));
            if (marker == 0xDA) return position + 2 + length;
            position += 2 + length;
        }
    }

    /// <summary>The JPEG with an EXIF APP1 segment right after SOI whose IFD0 holds only Orientation (tag 0x0112, SHORT).</summary>
    public static byte[] WithExifOrientation(byte[] jpeg, ushort orientation)
    {
        byte[] tiff =
        [
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8,           // big-endian TIFF header, IFD0 at offset 8
            0, 1,                                              // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1,                      // Orientation, SHORT, count 1
            (byte)(orientation >> 8), (byte)orientation, 0, 0, // the value, padded to 4 bytes
            0, 0, 0, 0,                                        // no next IFD
        ];
        byte[] payload = [.. "Exif"u8, 0, 0, .. tiff];
        var length = (ushort)(payload.Length + 2);
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. jpeg.AsSpan(2)];
    }
}
