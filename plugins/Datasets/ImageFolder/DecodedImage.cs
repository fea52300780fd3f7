using Distillery.Abstractions;
using StbImageSharp;

namespace Distillery.Datasets;

/// <summary>
/// An 8-bit image as decoded: <see cref="Pixels"/> is row-major, interleaved, with <see cref="Channels"/> values
/// per pixel, 1 (grey) or 3 (RGB).
/// </summary>
public sealed record DecodedImage(int Width, int Height, int Channels, byte[] Pixels)
{
    /// <summary>
    /// Decodes a PNG or JPEG file (see <see cref="TryRead"/>). An unusable file raises
    /// <see cref="DataFormatException"/> naming it and the problem.
    /// </summary>
    public static DecodedImage Read(string path) =>
        TryRead(path, out var problem) ?? throw new DataFormatException(path, problem!);

    /// <summary>
    /// The decoded image, or null with <paramref name="problem"/> saying, in readable text, why the file is unusable.
    /// The file must pass a strict check first (<see cref="PngStructure"/>, <see cref="JpegStructure"/>): a cut or
    /// damaged file is refused, never decoded in part. Pixels are then decoded with StbImageSharp: 16-bit PNGs are
    /// reduced to 8 bits (the high byte), any alpha channel is dropped (not composited), and the EXIF orientation
    /// is applied (<see cref="ExifOrientation"/>).
    /// </summary>
    public static DecodedImage? TryRead(string path, out string? problem)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"cannot be read: {e.Message}";
            return null;
        }

        problem = bytes switch
        {
            [] => "empty file, not an image",
            _ when bytes.AsSpan().StartsWith(PngStructure.Signature) => PngStructure.Problem(bytes),
            [0xFF, 0xD8, ..] => JpegStructure.Problem(bytes),
            _ => $"not a PNG or JPEG file (it starts with bytes {Convert.ToHexString(bytes.AsSpan(0, Math.Min(4, bytes.Length)))})",
        };
        if (problem is not null) return null;

        ImageResult image;
        int orientation;
        try
        {
            image = ImageResult.FromMemory(bytes, ColorComponents.Default);
        }
        // The decoder is a port of C code: corrupt input can surface as any exception, and all mean "not decodable".
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problem = $"cannot decode the image ({Readable(e.Message)})";
            return null;
        }
        try
        {
            orientation = ExifOrientation.Read(bytes);
        }
        catch (Exception e) when (e is MetadataExtractor.ImageProcessingException or IOException)
        {
            problem = $"its EXIF metadata cannot be read ({Readable(e.Message)})";
            return null;
        }

        DecodedImage? decoded = image.SourceComp switch
        {
            ColorComponents.Grey => new(image.Width, image.Height, 1, image.Data),
            ColorComponents.GreyAlpha => new(image.Width, image.Height, 1, DropAlpha(image.Data, 1)),
            ColorComponents.RedGreenBlue => new(image.Width, image.Height, 3, image.Data),
            ColorComponents.RedGreenBlueAlpha => new(image.Width, image.Height, 3, DropAlpha(image.Data, 3)),
            _ => null,
        };
        if (decoded is null)
        {
            problem = $"unsupported colour layout {image.SourceComp}";
            return null;
        }
        return ExifOrientation.Apply(decoded, orientation);
    }

    /// <summary>A library's message as one line of printable text (StbImageSharp's can hold NUL bytes).</summary>
    private static string Readable(string message)
    {
        var text = new string([.. message.Where(c => !char.IsControl(c))]).Trim();
        return text.Length > 0 ? text : "no reason given";
    }

    private static byte[] DropAlpha(byte[] data, int colours)
    {
        var pixels = data.Length / (colours + 1);
        var result = new byte[pixels * colours];
        for (var p = 0; p < pixels; p++)
            data.AsSpan(p * (colours + 1), colours).CopyTo(result.AsSpan(p * colours));
        return result;
    }
}
