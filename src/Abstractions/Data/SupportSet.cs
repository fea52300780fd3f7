using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// The distilled set: images [n, C, H, W] in the run's preprocessed space, regression targets [n, classes]
/// (one-hot minus 1/C unless learned) and the class each image stands for (int64 [n]).
/// </summary>
/// <remarks>A record of references: it neither owns nor copies its tensors (see <see cref="Plugins.IDistillationAlgorithm{TOptions}.Distill"/> for who owns a returned one).</remarks>
/// <param name="Images">Support images [n, C, H, W] in the run's preprocessed space, the run's dtype and device.</param>
/// <param name="Targets">Regression targets [n, classes], same dtype and device: <see cref="RegressionTargets.Encode"/> of the classes, or learned labels.</param>
/// <param name="Classes">The class each image stands for, int64 [n] (for the image grid and class-aware evaluators).</param>
public sealed record SupportSet(Tensor Images, Tensor Targets, Tensor Classes)
{
    /// <summary>n, the number of support images.</summary>
    public int Count => (int)Images.shape[0];
}

/// <summary>The label encoding used by KRR-based methods: one-hot minus 1/C (−0.1 / 0.9 for ten classes).</summary>
public static class RegressionTargets
{
    /// <summary>One-hot minus 1/C: row i is −1/C everywhere and 1 − 1/C at <c>classes[i]</c> (the KIP and Label Solve papers' targets).</summary>
    /// <param name="classes">Class indices, int64 [n], in [0, <paramref name="classCount"/>); any device.</param>
    /// <param name="classCount">C, the number of classes.</param>
    /// <param name="dtype">The dtype of the result (the run's).</param>
    /// <param name="device">The device of the result.</param>
    /// <returns>A new tensor [n, C] owned by the caller.</returns>
    public static Tensor Encode(Tensor classes, int classCount, ScalarType dtype, Device device)
    {
        using var oneHot = nn.functional.one_hot(classes.to(device), classCount);
        using var shift = (1.0 / classCount).ToScalar(); // held for the native call (see HeldScalars)
        return oneHot.to(dtype).sub(shift);
    }
}
