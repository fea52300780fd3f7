using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Numerics;

/// <summary>
/// Stops a run whose numbers became NaN or infinite, before anything is computed from them: the error names where
/// (phase or step), what became non-finite and what to change (<see cref="NumericalFailureException"/>).
/// </summary>
public static class FiniteCheck
{
    /// <summary>The number of NaN or infinite entries of <paramref name="values"/> (any shape, device and dtype; not differentiated).</summary>
    /// <param name="values">The tensor to count in; not changed.</param>
    /// <returns>How many entries are NaN or ±∞ (0 for a finite tensor).</returns>
    public static long CountNonFinite(Tensor values)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return values.detach().isfinite().logical_not().sum().item<long>();
    }

    /// <summary>
    /// Throws <see cref="NumericalFailureException"/> "<paramref name="where"/>: <paramref name="what"/> became
    /// non-finite (k of n values are NaN or infinite); <paramref name="remedy"/>" when any entry is NaN or infinite.
    /// </summary>
    /// <param name="values">The tensor checked (any shape, device and dtype); not changed.</param>
    /// <param name="where">The phase or step, e.g. <c>KIP step 12</c>.</param>
    /// <param name="what">What the tensor is, e.g. <c>the support images after the Adam update</c>.</param>
    /// <param name="remedy">What to change, e.g. <c>lower algorithm.options.learningRate</c>.</param>
    /// <exception cref="NumericalFailureException">Some entry is NaN or infinite.</exception>
    public static void Require(Tensor values, string where, string what, string remedy) => Require(values, where, what, () => remedy);

    /// <summary>As <see cref="Require(Tensor, string, string, string)"/>, with advice computed only on failure.</summary>
    /// <param name="values">The tensor checked; not changed.</param>
    /// <param name="where">The phase or step.</param>
    /// <param name="what">What the tensor is.</param>
    /// <param name="remedy">Called only on failure, for advice that costs something to compute (e.g. a largest magnitude).</param>
    /// <exception cref="NumericalFailureException">Some entry is NaN or infinite.</exception>
    public static void Require(Tensor values, string where, string what, Func<string> remedy)
    {
        var bad = CountNonFinite(values);
        if (bad > 0)
            throw new NumericalFailureException(
                $"{where}: {what} became non-finite ({bad:N0} of {values.numel():N0} values are NaN or infinite); {remedy()}");
    }

    /// <summary>The largest absolute finite value of <paramref name="values"/> (0 when there is none), for messages.</summary>
    /// <param name="values">Any tensor; not changed.</param>
    /// <returns>max |v| over the finite entries.</returns>
    public static double LargestMagnitude(Tensor values)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var magnitudes = values.detach().abs();
        var finite = magnitudes.isfinite();
        return finite.any().item<bool>() ? magnitudes.masked_select(finite).max().ToDouble() : 0;
    }
}
