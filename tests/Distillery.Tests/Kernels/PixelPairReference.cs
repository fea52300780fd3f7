using Distillery.Kernels.Layers;

namespace Distillery.Tests.Kernels;

/// <summary>
/// An independent, deliberately naive kernel over pixel pairs in plain doubles: explicit loops over p, p′ and the
/// offsets δ, zero padding by bounds checks, and the textbook arc-cosine ReLU (θ = arccos c). It reads only the
/// parameters of the layer records; none of the library's tensor code is used.
/// </summary>
internal static class PixelPairReference
{
    /// <summary>K(x1, x2) for single images [C, H, W]: (NTK, NNGP).</summary>
    public static (double Ntk, double Nngp) Kernel(double[,,] x1, double[,,] x2, IEnumerable<IKernelLayer> layers)
    {
        var state = Input(x1, x2);
        foreach (var layer in layers)
            state = layer switch
            {
                Conv conv => Convolve(state, conv),
                Relu => ReluLayer(state),
                AvgPool pool => Pool(state, pool),
                Flatten => Reduce(state, diagonalOnly: true),
                GlobalAvgPool => Reduce(state, diagonalOnly: false),
                Dense dense => DenseLayer(state, dense),
                _ => throw new NotSupportedException(layer.GetType().Name),
            };
        if (state.H != 0) throw new InvalidOperationException("composition ends spatial");
        return (state.Ntk[0, 0], state.Nngp[0, 0]);
    }

    /// <summary>Covariances over pixel pairs, indexed [p, p′] with p = h·W + w; H = W = 0 marks a flat (1×1 matrix) state.</summary>
    private sealed record State(int H, int W, double[,] Nngp, double[,] Ntk, double[,] Self1, double[,] Self2);

    private static State Input(double[,,] x1, double[,,] x2)
    {
        int channels = x1.GetLength(0), h = x1.GetLength(1), w = x1.GetLength(2), pixels = h * w;
        double[,] Product(double[,,] a, double[,,] b)
        {
            var result = new double[pixels, pixels];
            for (var p = 0; p < pixels; p++)
                for (var q = 0; q < pixels; q++)
                {
                    double sum = 0;
                    for (var c = 0; c < channels; c++) sum += a[c, p / w, p % w] * b[c, q / w, q % w];
                    result[p, q] = sum / channels;
                }
            return result;
        }
        return new State(h, w, Product(x1, x2), new double[pixels, pixels], Product(x1, x1), Product(x2, x2));
    }

    private static State Convolve(State s, Conv conv)
    {
        var (h, w, k) = (s.H, s.W, conv.Size);
        var low = (k - 1) / 2;
        double w2 = conv.WeightStd * conv.WeightStd, b2 = conv.BiasStd * conv.BiasStd;
        double[,] Mean(double[,] m)
        {
            var result = new double[h * w, h * w];
            for (var p = 0; p < h * w; p++)
                for (var q = 0; q < h * w; q++)
                {
                    double sum = 0;
                    for (var dh = -low; dh < k - low; dh++)
                        for (var dw = -low; dw < k - low; dw++)
                        {
                            int ph = p / w + dh, pw = p % w + dw, qh = q / w + dh, qw = q % w + dw;
                            if (ph < 0 || ph >= h || pw < 0 || pw >= w || qh < 0 || qh >= h || qw < 0 || qw >= w) continue;
                            sum += m[ph * w + pw, qh * w + qw];
                        }
                    result[p, q] = sum / (k * k);
                }
            return result;
        }
        var nngp = Affine(Mean(s.Nngp), w2, b2);
        var ntkConv = Mean(s.Ntk);
        var ntk = new double[h * w, h * w];
        for (var p = 0; p < h * w; p++)
            for (var q = 0; q < h * w; q++) ntk[p, q] = w2 * ntkConv[p, q] + nngp[p, q];
        return new State(h, w, nngp, ntk, Affine(Mean(s.Self1), w2, b2), Affine(Mean(s.Self2), w2, b2));
    }

    private static State DenseLayer(State s, Dense dense)
    {
        if (s.H != 0) throw new InvalidOperationException("Dense on a spatial state");
        double w2 = dense.WeightStd * dense.WeightStd, b2 = dense.BiasStd * dense.BiasStd;
        var nngp = w2 * s.Nngp[0, 0] + b2;
        return new State(0, 0, new[,] { { nngp } }, new[,] { { nngp + w2 * s.Ntk[0, 0] } },
            new[,] { { w2 * s.Self1[0, 0] + b2 } }, new[,] { { w2 * s.Self2[0, 0] + b2 } });
    }

    private static State ReluLayer(State s)
    {
        var n = s.Nngp.GetLength(0);
        double[,] nngp = new double[n, n], ntk = new double[n, n], self1 = new double[n, n], self2 = new double[n, n];
        for (var p = 0; p < n; p++)
            for (var q = 0; q < n; q++)
            {
                (nngp[p, q], var factor) = ArcCosine(s.Nngp[p, q], s.Self1[p, p], s.Self2[q, q]);
                ntk[p, q] = s.Ntk[p, q] * factor;
                self1[p, q] = ArcCosine(s.Self1[p, q], s.Self1[p, p], s.Self1[q, q]).Nngp;
                self2[p, q] = ArcCosine(s.Self2[p, q], s.Self2[p, p], s.Self2[q, q]).Nngp;
            }
        return s with { Nngp = nngp, Ntk = ntk, Self1 = self1, Self2 = self2 };
    }

    /// <summary>Textbook: c = Σ/√(q₁q₂), θ = arccos c, Σ′ = √(q₁q₂)(sin θ + (π − θ)cos θ)/2π, Θ factor (π − θ)/2π.</summary>
    private static (double Nngp, double NtkFactor) ArcCosine(double sigma, double q1, double q2)
    {
        var norm = Math.Sqrt(q1 * q2);
        var angle = Math.Acos(Math.Clamp(sigma / norm, -1.0, 1.0));
        return (norm * (Math.Sin(angle) + (Math.PI - angle) * Math.Cos(angle)) / (2 * Math.PI), (Math.PI - angle) / (2 * Math.PI));
    }

    private static State Pool(State s, AvgPool pool)
    {
        int oh = (s.H - pool.Window) / pool.Stride + 1, ow = (s.W - pool.Window) / pool.Stride + 1;
        double[,] Average(double[,] m)
        {
            var result = new double[oh * ow, oh * ow];
            for (var p = 0; p < oh * ow; p++)
                for (var q = 0; q < oh * ow; q++)
                {
                    double sum = 0;
                    for (var i = 0; i < pool.Window; i++)
                        for (var j = 0; j < pool.Window; j++)
                            for (var i2 = 0; i2 < pool.Window; i2++)
                                for (var j2 = 0; j2 < pool.Window; j2++)
                                {
                                    int ph = p / ow * pool.Stride + i, pw = p % ow * pool.Stride + j;
                                    int qh = q / ow * pool.Stride + i2, qw = q % ow * pool.Stride + j2;
                                    sum += m[ph * s.W + pw, qh * s.W + qw];
                                }
                    result[p, q] = sum / Math.Pow(pool.Window, 4);
                }
            return result;
        }
        return new State(oh, ow, Average(s.Nngp), Average(s.Ntk), Average(s.Self1), Average(s.Self2));
    }

    private static State Reduce(State s, bool diagonalOnly)
    {
        var n = s.Nngp.GetLength(0);
        double Mean(double[,] m)
        {
            double sum = 0;
            for (var p = 0; p < n; p++)
                for (var q = 0; q < n; q++)
                    if (!diagonalOnly || p == q) sum += m[p, q];
            return sum / (diagonalOnly ? n : n * n);
        }
        return new State(0, 0, new[,] { { Mean(s.Nngp) } }, new[,] { { Mean(s.Ntk) } },
            new[,] { { Mean(s.Self1) } }, new[,] { { Mean(s.Self2) } });
    }

    private static double[,] Affine(double[,] m, double scale, double shift)
    {
        var result = new double[m.GetLength(0), m.GetLength(1)];
        for (var i = 0; i < m.GetLength(0); i++)
            for (var j = 0; j < m.GetLength(1); j++) result[i, j] = scale * m[i, j] + shift;
        return result;
    }
}
