namespace Distillery.Tests.RandomFeatures;

/// <summary>
/// An independent, deliberately naive reference: the exact NNGP of [Conv3×3 SAME → ReLU → AvgPool2×2] × depth →
/// Flatten → Dense(wStd, bStd), by direct loops over pixel pairs in doubles. The covariance of every image pair,
/// self-pairs included (ReLU needs each image's own variances), is a [pixels, pixels] matrix.
/// </summary>
internal static class ExactConvNetNngp
{
    /// <param name="images">images[i][c, h, w]</param>
    public static double[,] Compute(double[][,,] images, int depth, double wStd, double bStd)
    {
        var n = images.Length;
        int channels = images[0].GetLength(0), height = images[0].GetLength(1), width = images[0].GetLength(2);

        // Input: Σ(p, p′) = x(p)·x′(p′) / C.
        var sigma = new double[n, n][,];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                var s = new double[height * width, height * width];
                for (var p = 0; p < height * width; p++)
                    for (var q = 0; q < height * width; q++)
                    {
                        double sum = 0;
                        for (var c = 0; c < channels; c++)
                            sum += images[i][c, p / width, p % width] * images[j][c, q / width, q % width];
                        s[p, q] = sum / channels;
                    }
                sigma[i, j] = s;
            }

        for (var layer = 0; layer < depth; layer++)
        {
            sigma = Map(sigma, s => Conv(s, height, width, wStd, bStd));
            sigma = Relu(sigma);
            sigma = Map(sigma, s => Pool(s, height, width));
            height /= 2;
            width /= 2;
        }

        // Flatten: mean of the diagonal; then the readout Dense.
        var kernel = new double[n, n];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                double trace = 0;
                for (var p = 0; p < height * width; p++) trace += sigma[i, j][p, p];
                kernel[i, j] = wStd * wStd * trace / (height * width) + bStd * bStd;
            }
        return kernel;
    }

    private static double[,][,] Map(double[,][,] sigma, Func<double[,], double[,]> layer)
    {
        var result = new double[sigma.GetLength(0), sigma.GetLength(1)][,];
        for (var i = 0; i < sigma.GetLength(0); i++)
            for (var j = 0; j < sigma.GetLength(1); j++)
                result[i, j] = layer(sigma[i, j]);
        return result;
    }

    /// <summary>Σ′(p, p′) = W²·mean over the 9 offsets δ of Σ(p+δ, p′+δ) (zero outside the image) + b².</summary>
    private static double[,] Conv(double[,] s, int height, int width, double wStd, double bStd)
    {
        var result = new double[height * width, height * width];
        for (var p = 0; p < height * width; p++)
            for (var q = 0; q < height * width; q++)
            {
                double sum = 0;
                for (var dh = -1; dh <= 1; dh++)
                    for (var dw = -1; dw <= 1; dw++)
                    {
                        int ph = p / width + dh, pw = p % width + dw, qh = q / width + dh, qw = q % width + dw;
                        if (ph < 0 || ph >= height || pw < 0 || pw >= width || qh < 0 || qh >= height || qw < 0 || qw >= width) continue;
                        sum += s[ph * width + pw, qh * width + qw];
                    }
                result[p, q] = wStd * wStd * sum / 9 + bStd * bStd;
            }
        return result;
    }

    /// <summary>Arc-cosine kernel of order 1 with the variances q₁ = Σ_xx(p, p), q₂ = Σ_x′x′(p′, p′).</summary>
    private static double[,][,] Relu(double[,][,] sigma)
    {
        var n = sigma.GetLength(0);
        var result = new double[n, n][,];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < n; j++)
            {
                var s = sigma[i, j];
                var pixels = s.GetLength(0);
                var r = new double[pixels, pixels];
                for (var p = 0; p < pixels; p++)
                    for (var q = 0; q < pixels; q++)
                    {
                        var q1 = sigma[i, i][p, p];
                        var q2 = sigma[j, j][q, q];
                        var c = Math.Clamp(s[p, q] / Math.Sqrt(q1 * q2), -1, 1);
                        var theta = Math.Acos(c);
                        r[p, q] = Math.Sqrt(q1 * q2) * (Math.Sin(theta) + (Math.PI - theta) * c) / (2 * Math.PI);
                    }
                result[i, j] = r;
            }
        return result;
    }

    /// <summary>AvgPool 2×2, stride 2, no padding (an odd last row/column is dropped): both pixel indices averaged.</summary>
    private static double[,] Pool(double[,] s, int height, int width)
    {
        int h2 = height / 2, w2 = width / 2;
        var result = new double[h2 * w2, h2 * w2];
        for (var p = 0; p < h2 * w2; p++)
            for (var q = 0; q < h2 * w2; q++)
            {
                double sum = 0;
                for (var a = 0; a < 4; a++)
                    for (var b = 0; b < 4; b++)
                    {
                        int ph = 2 * (p / w2) + a / 2, pw = 2 * (p % w2) + a % 2;
                        int qh = 2 * (q / w2) + b / 2, qw = 2 * (q % w2) + b % 2;
                        sum += s[ph * width + pw, qh * width + qw];
                    }
                result[p, q] = sum / 16;
            }
        return result;
    }
}
