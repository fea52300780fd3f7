namespace Distillery.Datasets;

/// <summary>
/// The image-folder resize/crop policy: scale so that the shorter side becomes <c>size</c>, then keep the centre
/// size × size square. Both steps are done at once, without rounding the longer side: output pixel (i, j) is the
/// area average of the source over its footprint, a square of side s / size (s = the shorter source side) inside
/// the centred s × s window, partially covered source pixels weighted by the covered fraction (box filter, like
/// OpenCV's INTER_AREA when shrinking). Shrinking by an integer factor k thus averages k × k blocks exactly;
/// enlarging repeats pixels, blending the two neighbours where a footprint straddles a pixel edge. An odd
/// difference between the sides puts the window on a half pixel, so the border pixels are blended half and half.
/// Channels: grey → RGB replicates the grey value; RGB → grey is the luminance 0.299 R + 0.587 G + 0.114 B
/// (ITU-R BT.601, as PIL's "L" mode). Values are divided by 255, so the output is in [0, 1].
/// </summary>
public static class CenterCropResizer
{
    private static readonly double[] Luminance = [0.299, 0.587, 0.114];

    /// <summary>Writes the [channels, size, size] result into <paramref name="output"/> (length channels·size²).</summary>
    public static void Resize(DecodedImage image, int size, int channels, Span<float> output)
    {
        var side = Math.Min(image.Width, image.Height);
        var columns = AxisWeights(image.Width, side, size);
        var rows = AxisWeights(image.Height, side, size);

        // Horizontal pass over every source row, then vertical: separable, so each pass is a short weighted sum.
        var horizontal = new double[image.Channels * image.Height * size];
        for (var y = 0; y < image.Height; y++)
            for (var j = 0; j < size; j++)
            {
                var (first, weights) = columns[j];
                for (var c = 0; c < image.Channels; c++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < weights.Length; k++)
                        sum += weights[k] * image.Pixels[((y * image.Width) + first + k) * image.Channels + c];
                    horizontal[(c * image.Height + y) * size + j] = sum;
                }
            }

        var resized = new double[image.Channels * size * size];
        for (var c = 0; c < image.Channels; c++)
            for (var i = 0; i < size; i++)
            {
                var (first, weights) = rows[i];
                for (var j = 0; j < size; j++)
                {
                    var sum = 0.0;
                    for (var k = 0; k < weights.Length; k++)
                        sum += weights[k] * horizontal[(c * image.Height + first + k) * size + j];
                    resized[(c * size + i) * size + j] = sum / 255.0;
                }
            }

        ConvertChannels(resized, image.Channels, channels, size * size, output);
    }

    /// <summary>
    /// For each output index along one axis: the first source index it covers and the weights of the covered source
    /// pixels (summing to 1). The window of length <paramref name="side"/> is centred in <paramref name="length"/>.
    /// </summary>
    public static (int First, double[] Weights)[] AxisWeights(int length, int side, int size)
    {
        var start = (length - side) / 2.0;
        var step = (double)side / size;
        var result = new (int, double[])[size];
        for (var o = 0; o < size; o++)
        {
            double from = start + o * step, to = from + step;
            var first = Math.Max(0, (int)Math.Floor(from));
            var last = Math.Min(length - 1, (int)Math.Ceiling(to) - 1);
            var weights = new double[last - first + 1];
            for (var k = first; k <= last; k++)
                weights[k - first] = Math.Max(0, Math.Min(to, k + 1) - Math.Max(from, k)) / step;
            result[o] = (first, weights);
        }
        return result;
    }

    private static void ConvertChannels(double[] planes, int from, int to, int planeSize, Span<float> output)
    {
        for (var c = 0; c < to; c++)
            for (var p = 0; p < planeSize; p++)
            {
                output[c * planeSize + p] = (from, to) switch
                {
                    (1, _) => (float)planes[p],
                    (3, 1) => (float)(Luminance[0] * planes[p] + Luminance[1] * planes[planeSize + p] + Luminance[2] * planes[2 * planeSize + p]),
                    _ => (float)planes[c * planeSize + p],
                };
            }
    }
}
