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
    /// Decodes a PNG or JPEG file with StbImageSharp (16-bit PNGs are reduced to 8 bits). Any alpha channel is
    /// dropped, not composited. An unreadable or undecodable file raises <see cref="DataFormatException"/> naming it.
    /// </summary>
    public static DecodedImage Read(string path) =>
        TryRead(path, out var problem) ?? throw new DataFormatException(path, problem!);

    /// <summary>The decoded image, or null with <paramref name="problem"/> saying why the file is unusable.</summary>
    public static DecodedImage? TryRead(string path, out string? problem)
    {
        problem = null;
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
        if (bytes.Length == 0)
        {
            problem = "empty file, not an image";
            return null;
        }

        ImageResult image;
        try
        {
            image = ImageResult.FromMemory(bytes, ColorComponents.Default);
        }
        // The decoder is a port of C code: corrupt input can surface as any exception, and all mean "not decodable".
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            problem = $"cannot decode the image ({e.Message})";
            return null;
        }

        switch (image.SourceComp)
        {
            case ColorComponents.Grey: return new(image.Width, image.Height, 1, image.Data);
            case ColorComponents.GreyAlpha: return new(image.Width, image.Height, 1, DropAlpha(image.Data, 1));
            case ColorComponents.RedGreenBlue: return new(image.Width, image.Height, 3, image.Data);
            case ColorComponents.RedGreenBlueAlpha: return new(image.Width, image.Height, 3, DropAlpha(image.Data, 3));
            default:
                problem = $"unsupported colour layout {image.SourceComp}";
                return null;
        }
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
