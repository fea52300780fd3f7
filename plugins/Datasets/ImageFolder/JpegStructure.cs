using BitMiracle.LibJpeg.Classic;

namespace Distillery.Datasets;

/// <summary>
/// A strict check of a JPEG file with LibJpeg.NET (a port of IJG libjpeg): its markers and tables are parsed, every
/// entropy-coded block of every scan is Huffman-decoded (<c>jpeg_read_coefficients</c>, without the inverse DCT or
/// colour conversion), and the file is read up to its EOI marker. Any corrupt-data warning libjpeg raises — a
/// missing EOI ("Premature end of JPEG file"), a bad Huffman code, a segment that ends early — makes the file corrupt.
/// StbImageSharp, which decodes the pixels afterwards, accepts all of these and fills the missing part with grey.
/// </summary>
public static class JpegStructure
{
    /// <summary>Null when <paramref name="file"/> is a well-formed JPEG, else libjpeg's message.</summary>
    public static string? Problem(byte[] file)
    {
        var decoder = new jpeg_decompress_struct(new StrictErrors());
        try
        {
            decoder.jpeg_stdio_src(new MemoryStream(file, writable: false));
            decoder.jpeg_read_header(true);
            decoder.jpeg_read_coefficients();
            decoder.jpeg_finish_decompress();
            return null;
        }
        catch (CorruptJpegException e)
        {
            return $"corrupt JPEG: {e.Message}";
        }
        finally
        {
            decoder.jpeg_destroy();
        }
    }

    /// <summary>libjpeg's error manager made strict: errors and corrupt-data warnings (level −1) both stop the check; nothing is printed.</summary>
    private sealed class StrictErrors : jpeg_error_mgr
    {
        public override void error_exit() => throw new CorruptJpegException(format_message());

        public override void emit_message(int msg_level)
        {
            if (msg_level < 0) throw new CorruptJpegException(format_message());
        }

        public override void output_message() { }
    }

    private sealed class CorruptJpegException(string message) : Exception(message);
}
