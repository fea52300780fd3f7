using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Tests.Methods;

/// <summary>Shared fixtures for the method tests: contexts, an in-memory checkpoint store, a recording reporter.</summary>
internal static class MethodTestSupport
{
    public static RunContext Run(ScalarType dtype = ScalarType.Float64, long seed = 1) => new()
    {
        Device = CPU,
        DType = dtype,
        Seed = seed,
        Logger = NullLogger.Instance,
    };

    /// <summary>Normal(0, 1) values from System.Random (Box–Muller), independent of torch's generators.</summary>
    public static double[] Gaussian(Random random, int count)
    {
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            var u1 = 1.0 - random.NextDouble();
            var u2 = random.NextDouble();
            values[i] = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        }
        return values;
    }

    public static Tensor RandomTensor(Random random, ScalarType dtype, params long[] shape)
    {
        var count = (int)shape.Aggregate(1L, (a, b) => a * b);
        return tensor(Gaussian(random, count), dtype: ScalarType.Float64).reshape(shape).to(dtype);
    }

    public static double[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();

    public static double[,] Matrix(Tensor t)
    {
        var values = Values(t);
        var rows = (int)t.shape[0];
        var columns = (int)t.shape[1];
        var m = new double[rows, columns];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < columns; j++)
                m[i, j] = values[i * columns + j];
        return m;
    }

    /// <summary>Largest |a − b| / max(|b|, floor) over all entries.</summary>
    public static double MaxRelativeError(Tensor actual, Tensor expected, double floor = 1e-300)
    {
        var a = Values(actual);
        var b = Values(expected);
        if (a.Length != b.Length) throw new ArgumentException("shape mismatch");
        var worst = 0.0;
        for (var i = 0; i < a.Length; i++)
            worst = Math.Max(worst, Math.Abs(a[i] - b[i]) / Math.Max(Math.Abs(b[i]), floor));
        return worst;
    }

    /// <summary>
    /// A labelled set of <paramref name="classes"/> × <paramref name="perClass"/> images whose class c is centred on
    /// a class-specific random mean, with Gaussian noise of size <paramref name="noise"/>; labels interleaved.
    /// </summary>
    public static ImageSet ClusteredImages(Random random, int classes, int perClass, long[] imageShape, double noise,
                                           ScalarType dtype = ScalarType.Float64)
    {
        var features = (int)imageShape.Aggregate(1L, (a, b) => a * b);
        var means = Enumerable.Range(0, classes).Select(_ => Gaussian(random, features)).ToArray();
        var count = classes * perClass;
        var pixels = new double[count * features];
        var labels = new long[count];
        for (var i = 0; i < count; i++)
        {
            var c = i % classes;
            labels[i] = c;
            var n = Gaussian(random, features);
            for (var f = 0; f < features; f++) pixels[i * features + f] = means[c][f] + noise * n[f];
        }
        var images = tensor(pixels, dtype: ScalarType.Float64).reshape([count, .. imageShape]).to(dtype);
        return new ImageSet(images, tensor(labels), Enumerable.Range(0, classes).Select(c => $"c{c}").ToArray());
    }

    /// <summary>One-hot minus 1/C, written out independently of RegressionTargets.</summary>
    public static Tensor EncodeTargets(long[] labels, int classes)
    {
        var values = new double[labels.Length * classes];
        for (var i = 0; i < labels.Length; i++)
            for (var c = 0; c < classes; c++)
                values[i * classes + c] = (labels[i] == c ? 1.0 : 0.0) - 1.0 / classes;
        return tensor(values, dtype: ScalarType.Float64).reshape(labels.Length, classes);
    }

    /// <summary>
    /// Textbook scalar FC kernel ([Dense → ReLU] × depth → Dense, NTK parameterisation) in plain doubles, with the
    /// arc-cosine form of the ReLU: Σ′ = √(q₁q₂)(sin θ + (π − θ) cos θ)/2π, Θ′ = Θ(π − θ)/2π.
    /// </summary>
    public static (double Ntk, double Nngp) ReferenceFcKernel(double[] x1, double[] x2, int depth, double wStd, double bStd)
    {
        var d = x1.Length;
        double sigma = 0, q1 = 0, q2 = 0;
        for (var i = 0; i < d; i++)
        {
            sigma += x1[i] * x2[i];
            q1 += x1[i] * x1[i];
            q2 += x2[i] * x2[i];
        }
        sigma /= d; q1 /= d; q2 /= d;
        double theta = 0; // the NTK Θ
        var w2 = wStd * wStd;
        var b2 = bStd * bStd;

        void Dense()
        {
            sigma = w2 * sigma + b2;
            q1 = w2 * q1 + b2;
            q2 = w2 * q2 + b2;
            theta = sigma + w2 * theta;
        }

        for (var layer = 0; layer < depth; layer++)
        {
            Dense();
            var norm = Math.Sqrt(q1 * q2);
            var c = Math.Clamp(sigma / norm, -1.0, 1.0);
            var angle = Math.Acos(c);
            var newSigma = norm * (Math.Sin(angle) + (Math.PI - angle) * Math.Cos(angle)) / (2 * Math.PI);
            theta = theta * (Math.PI - angle) / (2 * Math.PI);
            sigma = newSigma;
            q1 /= 2;
            q2 /= 2;
        }
        Dense();
        return (theta, sigma);
    }
}

/// <summary>Keeps clones of every saved checkpoint in memory; LoadLatest returns (clones of) the last one.</summary>
internal sealed class InMemoryCheckpointStore : ICheckpointStore
{
    private readonly List<Checkpoint> _saved = [];

    public IReadOnlyList<Checkpoint> Saved => _saved;

    public void Save(long step, IReadOnlyDictionary<string, Tensor> tensors)
    {
        var copies = tensors.ToDictionary(kv => kv.Key, kv => kv.Value.detach().cpu().clone().DetachFromDisposeScope());
        _saved.Add(new Checkpoint(step, copies));
    }

    public Checkpoint? LoadLatest()
    {
        if (_saved.Count == 0) return null;
        var latest = _saved[^1];
        return new Checkpoint(latest.Step,
            latest.Tensors.ToDictionary(kv => kv.Key, kv => kv.Value.clone().DetachFromDisposeScope()));
    }
}

/// <summary>Records every progress event; optionally calls back on each report (e.g. to cancel a run).</summary>
internal sealed class RecordingProgress(Action<ProgressUpdate>? onReport = null) : IProgressReporter
{
    public List<(string Phase, long Total, long First)> Starts { get; } = [];
    public List<ProgressUpdate> Updates { get; } = [];

    public void Start(string phase, long totalSteps, long firstStep = 0) => Starts.Add((phase, totalSteps, firstStep));

    public void Report(ProgressUpdate update)
    {
        Updates.Add(update);
        onReport?.Invoke(update);
    }
}
