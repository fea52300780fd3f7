using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Baselines.Coresets;

/// <summary>
/// Herding as iCaRL uses it (Rebuffi et al. 2017, after Welling 2009): greedily add the point that brings the
/// mean of the chosen points closest (Euclidean) to the mean of all points. Ties go to the lowest index.
/// </summary>
public static class Herding
{
    /// <summary>Indices of <paramref name="count"/> distinct rows of <paramref name="points"/> [m, d], in the order chosen.</summary>
    public static long[] Select(Tensor points, int count)
    {
        var m = points.shape[0];
        if (count > m) throw new ArgumentOutOfRangeException(nameof(count), $"{count} points asked of {m}");
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var target = points.mean([0]);
        var sum = zeros_like(target);
        var taken = zeros(m, dtype: ScalarType.Bool, device: points.device);
        var chosen = new long[count];
        for (var t = 0; t < count; t++)
        {
            // ‖(sum + x_i)/(t+1) − μ‖² for every candidate i; chosen ones are excluded.
            using var chosenCount = (t + 1.0).ToScalar(); // every Scalar here is held for its native call (see HeldScalars)
            using var infinity = double.PositiveInfinity.ToScalar();
            var deviation = points.add(sum, HeldScalars.One).div(chosenCount).sub(target);
            var error = deviation.mul(deviation).sum(1).masked_fill(taken, infinity);
            chosen[t] = error.argmin().item<long>();
            taken[chosen[t]] = true;
            sum = sum.add(points[chosen[t]], HeldScalars.One);
        }
        return chosen;
    }
}
