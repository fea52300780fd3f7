using Distillery.Abstractions.Numerics;
using StbImageWriteSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Engine.Outputs;

/// <summary>
/// Writes distilled images as a PNG grid, one row per class. Images must already be in pixel space
/// (values in [0, 1]; out-of-range values are clipped). Small images are enlarged so they can be seen.
/// </summary>
public static class ImageGridPng
{
    private const int Gap = 2;
    private const byte Background = 255;

    public static void Write(string path, Tensor images, Tensor classes, int classCount)
    {
        using var zero = 0.0.ToScalar(); // held for the native calls (see HeldScalars)
        using var levels = 255.0.ToScalar();
        using var pixels = images.detach().cpu().to(float32).clamp(zero, HeldScalars.One).mul(levels).round().to(ScalarType.Byte);
        var labels = classes.cpu().data<long>().ToArray();
        var (count, channels, height, width) = ((int)pixels.shape[0], (int)pixels.shape[1], (int)pixels.shape[2], (int)pixels.shape[3]);
        var scale = Math.Max(1, 64 / Math.Max(height, width));
        var columns = Math.Max(1, Enumerable.Range(0, classCount).Max(c => labels.Count(l => l == c)));

        var (cellWidth, cellHeight) = (width * scale + Gap, height * scale + Gap);
        var (gridWidth, gridHeight) = (columns * cellWidth + Gap, classCount * cellHeight + Gap);
        var rgb = new byte[gridWidth * gridHeight * 3];
        Array.Fill(rgb, Background);

        var data = pixels.data<byte>().ToArray();
        var nextColumn = new int[classCount];
        for (var i = 0; i < count; i++)
        {
            var row = (int)labels[i];
            var left = Gap + nextColumn[row]++ * cellWidth;
            var top = Gap + row * cellHeight;
            for (var y = 0; y < height * scale; y++)
                for (var x = 0; x < width * scale; x++)
                    for (var c = 0; c < 3; c++)
                    {
                        // Grey images repeat their one channel into red, green and blue.
                        var source = ((i * channels + Math.Min(c, channels - 1)) * height + y / scale) * width + x / scale;
                        rgb[((top + y) * gridWidth + left + x) * 3 + c] = data[source];
                    }
        }
        // Atomic: the status page may read the preview grid while a run rewrites it.
        AtomicFile.Write(path, stream => new ImageWriter().WritePng(rgb, gridWidth, gridHeight, ColorComponents.RedGreenBlue, stream));
    }
}
