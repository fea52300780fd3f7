using MetadataExtractor;
using MetadataExtractor.Formats.Exif;

namespace Distillery.Datasets;

/// <summary>
/// The EXIF Orientation tag (TIFF tag 0x0112, EXIF 2.32 §4.6.4) of a JPEG or PNG, read with MetadataExtractor, and its
/// application to decoded pixels, so that an image trains the way viewers show it (a phone photo taken upright is
/// stored sideways with Orientation 6). Values: 1 as stored, 2 mirrored left–right, 3 rotated 180°, 4 mirrored
/// top–bottom, 5 transposed, 6 to be rotated 90° clockwise, 7 transversed, 8 to be rotated 90° anticlockwise.
/// </summary>
public static class ExifOrientation
{
    /// <summary>
    /// The file's orientation, 1 when it has none or an out-of-range value (as PIL's exif_transpose does).
    /// Throws <see cref="ImageProcessingException"/> or <see cref="IOException"/> when the metadata cannot be parsed.
    /// </summary>
    public static int Read(byte[] file)
    {
        var directories = ImageMetadataReader.ReadMetadata(new MemoryStream(file, writable: false));
        var ifd0 = directories.OfType<ExifIfd0Directory>().FirstOrDefault();
        return ifd0 is not null && ifd0.TryGetInt32(ExifDirectoryBase.TagOrientation, out var value) && value is >= 1 and <= 8 ? value : 1;
    }

    /// <summary>The image as displayed under <paramref name="orientation"/> (1–8): for 5–8 width and height swap.</summary>
    public static DecodedImage Apply(DecodedImage image, int orientation)
    {
        if (orientation == 1) return image;
        var (w, h, c) = (image.Width, image.Height, image.Channels);
        var swapped = orientation >= 5;
        var (width, height) = swapped ? (h, w) : (w, h);
        var pixels = new byte[image.Pixels.Length];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
            {
                // The stored pixel shown at display position (x, y).
                var (sx, sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    8 => (w - 1 - y, x),
                    _ => throw new ArgumentOutOfRangeException(nameof(orientation), orientation, "EXIF orientation is 1 to 8"),
                };
                image.Pixels.AsSpan((sy * w + sx) * c, c).CopyTo(pixels.AsSpan((y * width + x) * c, c));
            }
        return new DecodedImage(width, height, c, pixels);
    }
}
