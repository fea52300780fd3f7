using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// Kernel ridge regression as the KIP papers use it: ŷ_t = K_ts (K_ss + λI)⁻¹ y_s with λ = reg · tr(K_ss) / n.
/// Differentiable with respect to the kernel matrices and targets; never forms an inverse. A kernel matrix that is not
/// finite, or a system too singular to solve in its dtype, ends in a <see cref="NumericalFailureException"/> naming the
/// caller's step, the matrix, the ridge actually used and the dtype.
/// </summary>
public static class KernelRidge
{
    /// <summary>λ = reg · tr(K_ss) / n (a 0-dimensional tensor of K_ss's dtype): the ridge scales with the kernel so one reg value fits every kernel.</summary>
    /// <param name="kss">K_ss [n, n].</param>
    /// <param name="regularization">reg, relative to the mean diagonal (1e-6 in the KIP papers).</param>
    /// <returns>A new 0-dimensional tensor on K_ss's device, owned by the caller; differentiable in K_ss.</returns>
    public static Tensor Ridge(Tensor kss, double regularization)
    {
        using var reg = regularization.ToScalar();
        return kss.diagonal().mean().mul(reg);
    }

    /// <summary>
    /// The weights α = (K_ss + λI)⁻¹ y_s [n, classes] for K_ss [n, n] and targets [n, classes], in their dtype and on
    /// their device, by Cholesky; when rounding makes the matrix not positive definite (possible in float32 with a
    /// tiny ridge) it falls back to an LU solve.
    /// </summary>
    /// <param name="kss">K_ss [n, n], symmetric positive semi-definite, floating point.</param>
    /// <param name="targets">y_s [n, classes] (or any right-hand side [n, k]), same dtype and device.</param>
    /// <param name="regularization">reg: λ = reg · tr(K_ss) / n (see <see cref="Ridge"/>).</param>
    /// <param name="step">Who solves, for the error message: "KIP step 12", "Label Solve", "evaluator 'krr'".</param>
    /// <param name="regularizationOption">The option that sets reg, for the advice: the caller's
    /// <see cref="Runs.RunContext.OptionPath"/>("regularization"), e.g. "algorithm.options.regularization".</param>
    /// <returns>A new tensor [n, classes] in the caller's dispose scope; differentiable in K_ss and the targets.</returns>
    /// <exception cref="NumericalFailureException">K_ss is not finite, the system is singular, or the weights are not finite.</exception>
    public static Tensor SolveWeights(Tensor kss, Tensor targets, double regularization,
                                      string step = "kernel ridge regression", string regularizationOption = "regularization")
    {
        using var scope = NewDisposeScope();
        var n = kss.shape[0];
        FiniteCheck.Require(kss, step, $"the kernel matrix K_ss ({n}×{n}, {kss.dtype})",
            $"the support images are not finite, or so large that their kernel overflows (a distillation that diverged: lower its learning rate){OrFloat64(kss)}");
        var ridge = Ridge(kss, regularization);
        var regularized = kss.add(eye(n, dtype: kss.dtype, device: kss.device).mul(ridge), HeldScalars.One);
        var (factor, info) = linalg.cholesky_ex(regularized);
        Tensor weights;
        if (info.item<int>() == 0)
            weights = cholesky_solve(targets, factor);
        else
        {
            var (solution, luInfo) = linalg.solve_ex(regularized, targets);
            if (luInfo.item<int>() != 0)
                throw Singular(step, regularizationOption, kss, ridge, regularization, "is singular");
            weights = solution;
        }
        if (FiniteCheck.CountNonFinite(weights) > 0)
            throw Singular(step, regularizationOption, kss, ridge, regularization, "is too ill-conditioned (the solution is not finite)");
        return weights.MoveToOuterDisposeScope();
    }

    /// <summary>Predictions K_ts (K_ss + λI)⁻¹ y_s [t, classes] for the targets whose kernel rows against the support are <paramref name="kts"/> [t, n].</summary>
    /// <param name="kts">K_ts [t, n]: the targets' kernel rows against the support.</param>
    /// <param name="supportTargets">y_s [n, classes].</param>
    /// <param name="kss">K_ss [n, n] (see <see cref="SolveWeights"/>).</param>
    /// <param name="regularization">reg: λ = reg · tr(K_ss) / n.</param>
    /// <param name="step">Who solves, for the error message.</param>
    /// <param name="regularizationOption">The option that sets reg, for the advice.</param>
    /// <returns>A new tensor [t, classes] in the caller's dispose scope; differentiable in K_ts, K_ss and y_s.</returns>
    /// <exception cref="NumericalFailureException">As <see cref="SolveWeights"/>.</exception>
    public static Tensor Predict(Tensor kts, Tensor kss, Tensor supportTargets, double regularization,
                                 string step = "kernel ridge regression", string regularizationOption = "regularization")
    {
        using var scope = NewDisposeScope();
        return kts.matmul(SolveWeights(kss, supportTargets, regularization, step, regularizationOption)).MoveToOuterDisposeScope();
    }

    private static NumericalFailureException Singular(string step, string regularizationOption, Tensor kss, Tensor ridge,
                                                      double regularization, string problem)
    {
        var n = kss.shape[0];
        var lambda = ridge.ToDouble();
        var meanDiagonal = kss.diagonal().mean().ToDouble();
        return new NumericalFailureException(
            $"{step}: cannot solve with K_ss + λI ({n}×{n}, {kss.dtype}, λ = {lambda:G3} = {regularizationOption} {regularization:G3} × " +
            $"mean diagonal {meanDiagonal:G3}): the matrix {problem} in {kss.dtype}, as when support images repeat or nearly coincide; " +
            $"raise {regularizationOption} (1e-6 is the usual default){OrFloat64(kss)}");
    }

    /// <summary>The float64 advice, for a matrix that is not float64 already.</summary>
    private static string OrFloat64(Tensor matrix) =>
        matrix.dtype == ScalarType.Float64 ? "" : " or run in float64 (\"dtype\": \"float64\")";
}
