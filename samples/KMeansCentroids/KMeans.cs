using TorchSharp;
using static TorchSharp.torch;

namespace KMeansCentroids;

/// <summary>
/// k-means clustering of a point cloud: k-means++ seeding (Arthur &amp; Vassilvitskii, SODA 2007), then Lloyd
/// iterations until no point changes cluster. Euclidean distance; a cluster left empty keeps its previous centre.
/// Every Scalar passed to libtorch is held for the call (a temporary one can be freed by a garbage collection on
/// another thread while libtorch reads it).
/// </summary>
public static class KMeans
{
    /// <summary>Clusters <paramref name="points"/> into <paramref name="k"/> clusters.</summary>
    /// <param name="points">[m, d] floating point, on any device; not modified.</param>
    /// <param name="k">Clusters, 1 ≤ k ≤ m.</param>
    /// <param name="maxIterations">The most Lloyd iterations.</param>
    /// <param name="generator">The CPU generator the seeding draws from (the same generator gives the same clusters).</param>
    /// <param name="cancellation">Checked between iterations.</param>
    /// <returns>Centres [k, d] on the points' device and dtype (the caller owns them), and the Lloyd iterations run.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="k"/> is not in [1, m].</exception>
    public static (Tensor Centres, int Iterations) Fit(Tensor points, int k, int maxIterations, Generator generator, CancellationToken cancellation)
    {
        var m = points.shape[0];
        if (k < 1 || k > m) throw new ArgumentOutOfRangeException(nameof(k), $"{k} clusters asked of {m} points");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var centres = Seed(points, k, generator);
        Tensor? assignment = null;
        var iterations = 0;
        while (iterations < maxIterations)
        {
            cancellation.ThrowIfCancellationRequested();
            var next = SquaredDistances(points, centres).argmin(1);
            if (assignment is not null && next.eq(assignment).all().item<bool>()) break;
            assignment = next;
            iterations++;
            // Cluster sums and sizes in one product: one-hot [m, k]ᵀ × points [m, d].
            var membership = nn.functional.one_hot(assignment, k).to(points.dtype);
            var sums = membership.t().matmul(points);
            var sizes = membership.sum(dim: 0).unsqueeze(1);   // dim named: a literal 0 would bind to sum(ScalarType)
            using var one = 1.0.ToScalar();
            using var zero = 0.0.ToScalar();
            centres = where(sizes.gt(zero), sums.div(sizes.clamp_min(one)), centres);
        }
        return (centres.MoveToOuterDisposeScope(), iterations);
    }

    /// <summary>‖x_i − c_j‖² [m, k] between points [m, d] and centres [k, d], as ‖x‖² + ‖c‖² − 2 x·c, clamped at 0.</summary>
    public static Tensor SquaredDistances(Tensor points, Tensor centres)
    {
        using var scope = NewDisposeScope();
        var pointNorms = points.mul(points).sum(1, keepdim: true);
        var centreNorms = centres.mul(centres).sum(1).unsqueeze(0);
        using var minusTwo = (-2.0).ToScalar();
        using var one = 1.0.ToScalar();
        using var zero = 0.0.ToScalar();
        return pointNorms.add(centreNorms, one).add(points.matmul(centres.t()), minusTwo).clamp_min(zero).MoveToOuterDisposeScope();
    }

    /// <summary>k-means++: the first centre uniformly, each next one with probability proportional to its squared distance to the nearest centre so far.</summary>
    private static Tensor Seed(Tensor points, int k, Generator generator)
    {
        var m = points.shape[0];
        var chosen = new List<long> { randint(m, [1], generator: generator).item<long>() };
        var nearest = SquaredDistances(points, points[chosen[0]].unsqueeze(0)).squeeze(1);
        while (chosen.Count < k)
        {
            using var weights = nearest.to(ScalarType.Float64).cpu();
            // All remaining points coincide with a centre: any unchosen one will do.
            var next = weights.sum().item<double>() > 0
                ? multinomial(weights, 1, generator: generator).item<long>()
                : Enumerable.Range(0, (int)m).Select(i => (long)i).First(i => !chosen.Contains(i));
            chosen.Add(next);
            nearest = minimum(nearest, SquaredDistances(points, points[next].unsqueeze(0)).squeeze(1));
        }
        return points.index_select(0, tensor(chosen.ToArray(), device: points.device));
    }
}
