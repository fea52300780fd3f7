using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Baselines.Coresets;

/// <summary>
/// k-center greedy (farthest-point traversal; Sener &amp; Savarese 2018): starting from one given point, repeatedly
/// add the point farthest (Euclidean) from every point chosen so far. Ties go to the lowest index.
/// </summary>
public static class KCenterGreedy
{
    /// <summary>Indices of <paramref name="count"/> distinct rows of <paramref name="points"/> [m, d], in the order chosen.</summary>
    public static long[] Select(Tensor points, int count, long first)
    {
        var m = points.shape[0];
        if (count > m) throw new ArgumentOutOfRangeException(nameof(count), $"{count} centres asked of {m} points");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var chosen = new long[count];
        chosen[0] = first;
        var nearest = SquaredDistances(points, first); // squared distance of every point to its nearest centre
        for (var t = 1; t < count; t++)
        {
            nearest[chosen[t - 1]] = -1; // a chosen point is never chosen again, even among duplicates
            chosen[t] = nearest.argmax().item<long>();
            nearest = minimum(nearest, SquaredDistances(points, chosen[t]));
        }
        return chosen;
    }

    private static Tensor SquaredDistances(Tensor points, long centre)
    {
        var differences = points.sub(points[centre]);
        return differences.mul(differences).sum(1); // not square(): its hidden exponent Scalar is a temporary (see HeldScalars)
    }
}
