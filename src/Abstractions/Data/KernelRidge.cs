using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// Kernel ridge regression as the KIP papers use it: ŷ_t = K_ts (K_ss + λI)⁻¹ y_s with λ = reg · tr(K_ss) / n.
/// Differentiable with respect to the kernel matrices and targets; never forms an inverse.
/// </summary>
public static class KernelRidge
{
    /// <summary>λ = reg · tr(K_ss) / n: the ridge scales with the kernel so one reg value fits every kernel.</summary>
    public static Tensor Ridge(Tensor kss, double regularization) =>
        kss.diagonal().mean() * regularization;

    /// <summary>
    /// The weights α = (K_ss + λI)⁻¹ y_s, by Cholesky; when rounding makes the matrix not positive definite
    /// (possible in float32 with a tiny ridge) it falls back to an LU solve.
    /// </summary>
    public static Tensor SolveWeights(Tensor kss, Tensor targets, double regularization)
    {
        using var scope = NewDisposeScope();
        var n = kss.shape[0];
        var identity = eye(n, dtype: kss.dtype, device: kss.device);
        var regularized = kss + Ridge(kss, regularization) * identity;
        var (factor, info) = linalg.cholesky_ex(regularized);
        var weights = info.item<int>() == 0
            ? cholesky_solve(targets, factor)
            : linalg.solve(regularized, targets);
        return weights.MoveToOuterDisposeScope();
    }

    /// <summary>Predictions K_ts (K_ss + λI)⁻¹ y_s for the targets whose kernel rows against the support are <paramref name="kts"/>.</summary>
    public static Tensor Predict(Tensor kts, Tensor kss, Tensor supportTargets, double regularization)
    {
        using var scope = NewDisposeScope();
        return kts.matmul(SolveWeights(kss, supportTargets, regularization)).MoveToOuterDisposeScope();
    }
}
