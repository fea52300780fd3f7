using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace Distillery.Datasets;

/// <summary>
/// A strict structural check of a PNG file (PNG specification, 3rd edition: chunk layout, CRC-32 of every chunk,
/// the zlib stream of the IDAT chunks inflated in full with its Adler-32 checked, one filter byte of 0–4 before every
/// scanline of every interlace pass, and exactly the image data the header describes). StbImageSharp, which decodes
/// the pixels afterwards, checks none of this: a cut or damaged file would decode to a partly blank image or fail with
/// an unreadable message.
/// </summary>
public static class PngStructure
{
    /// <summary>The eight bytes every PNG file starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The largest width or height accepted (StbImageSharp's own limit).</summary>
    public const int MaxSide = 1 << 24;

    /// <summary>Null when <paramref name="file"/> is a well-formed PNG, else a readable sentence saying what is wrong and where.</summary>
    public static string? Problem(byte[] file)
    {
        if (!file.AsSpan().StartsWith(Signature)) return "not a PNG file (wrong signature)";
        var position = Signature.Length;
        Header? header = null;
        var imageData = new MemoryStream();
        var ended = false;
        while (!ended)
        {
            if (file.Length - position < 12)
                return $"the file is cut off at byte {file.Length}: no IEND chunk";
            var length = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position));
            var type = Encoding.ASCII.GetString(file, position + 4, 4);
            var name = type.All(char.IsAsciiLetter) ? $"chunk '{type}'" : "a chunk with an invalid type";
            if (length > int.MaxValue || file.Length - position - 12 < length)
                return $"the file is cut off at byte {file.Length}: {name} at byte {position} declares {length} bytes of data";
            var data = file.AsSpan(position + 8, (int)length);
            var stored = BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(position + 8 + (int)length));
            var computed = Crc32.HashToUInt32(file.AsSpan(position + 4, (int)length + 4));
            if (stored != computed)
                return $"{name} at byte {position} fails its CRC check (stored 0x{stored:X8}, computed 0x{computed:X8})";

            if (header is null && type != "IHDR") return $"{name} at byte {position} comes before the IHDR header chunk";
            switch (type)
            {
                case "IHDR":
                    if (header is not null) return $"a second IHDR chunk at byte {position}";
                    if (Header.Read(data, out var problem) is not { } read) return $"IHDR chunk: {problem}";
                    header = read;
                    break;
                case "IDAT":
                    imageData.Write(data);
                    break;
                case "IEND":
                    ended = true;
                    break;
            }
            position += 12 + (int)length;
        }
        if (imageData.Length == 0) return "no IDAT chunk: the file holds no image data";
        imageData.Position = 0;
        return CheckImageData(imageData, header!);
    }

    /// <summary>Inflates the IDAT stream and walks its scanlines: filter bytes, total size and the zlib checksum.</summary>
    private static string? CheckImageData(Stream compressed, Header header)
    {
        try
        {
            using var inflated = new ZLibStream(compressed, CompressionMode.Decompress);
            var buffer = new byte[64 * 1024];
            long expected = 0, seen = 0;
            foreach (var (width, height) in header.Passes())
            {
                var rowBytes = (width * header.BitsPerPixel + 7) / 8;
                expected += height * (1 + rowBytes);
                for (long row = 0; row < height; row++)
                {
                    var filter = inflated.ReadByte();
                    if (filter < 0) return $"the image data ends after {seen} of {expected} bytes (IDAT data cut off or corrupt)";
                    if (filter > 4) return $"the image data is corrupt: scanline filter type {filter} at inflated byte {seen} (allowed 0–4)";
                    seen++;
                    for (var left = rowBytes; left > 0;)
                    {
                        var read = inflated.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                        if (read == 0) return $"the image data ends after {seen} of {expected} bytes (IDAT data cut off or corrupt)";
                        left -= read;
                        seen += read;
                    }
                }
            }
            // Reading past the last scanline makes zlib finish the stream and verify its Adler-32 checksum.
            if (inflated.Read(buffer, 0, 1) > 0) return $"the IDAT data holds more than the {expected} bytes the header describes";
            return null;
        }
        catch (InvalidDataException e)
        {
            return $"the IDAT zlib data is corrupt ({e.Message.TrimEnd('.')})";
        }
    }

    /// <summary>The IHDR fields that fix the size of the image data.</summary>
    private sealed record Header(long Width, long Height, int BitsPerPixel, bool Interlaced)
    {
        public static Header? Read(ReadOnlySpan<byte> data, out string? problem)
        {
            problem = null;
            if (data.Length != 13) { problem = $"{data.Length} bytes of data, 13 expected"; return null; }
            var (width, height) = (BinaryPrimitives.ReadUInt32BigEndian(data), BinaryPrimitives.ReadUInt32BigEndian(data[4..]));
            var (depth, colour, interlace) = (data[8], data[9], data[12]);
            int? channels = colour switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, 6 => 4, _ => null };
            var depthAllowed = colour switch
            {
                0 => depth is 1 or 2 or 4 or 8 or 16,
                3 => depth is 1 or 2 or 4 or 8,
                _ => depth is 8 or 16,
            };
            if (width == 0 || height == 0 || width > MaxSide || height > MaxSide)
                problem = $"image size {width} x {height} (each side must be 1 to {MaxSide})";
            else if (channels is null) problem = $"unknown colour type {colour}";
            else if (!depthAllowed) problem = $"bit depth {depth} is not allowed with colour type {colour}";
            else if (interlace > 1) problem = $"unknown interlace method {interlace}";
            return problem is null ? new Header(width, height, depth * channels!.Value, interlace == 1) : null;
        }

        /// <summary>The size of each pass: one for a plain image, seven for Adam7 (empty passes have no scanlines).</summary>
        public IEnumerable<(long Width, long Height)> Passes()
        {
            if (!Interlaced)
            {
                yield return (Width, Height);
                yield break;
            }
            // Adam7: (first column, first row, column step, row step) of each pass.
            (int X, int Y, int Dx, int Dy)[] adam7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)];
            foreach (var (x, y, dx, dy) in adam7)
            {
                var (w, h) = ((Width - x + dx - 1) / dx, (Height - y + dy - 1) / dy);
                if (w > 0 && h > 0) yield return (w, h);
            }
        }
    }
}
