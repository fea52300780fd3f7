using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// The distilled set: images [n, C, H, W] in the run's preprocessed space, regression targets [n, classes]
/// (one-hot minus 1/C unless learned) and the class each image stands for (int64 [n]).
/// </summary>
public sealed record SupportSet(Tensor Images, Tensor Targets, Tensor Classes)
{
    public int Count => (int)Images.shape[0];
}

/// <summary>The label encoding used by KRR-based methods: one-hot minus 1/C (−0.1 / 0.9 for ten classes).</summary>
public static class RegressionTargets
{
    public static Tensor Encode(Tensor classes, int classCount, ScalarType dtype, Device device)
    {
        using var oneHot = nn.functional.one_hot(classes.to(device), classCount);
        using var shift = (1.0 / classCount).ToScalar(); // held for the native call (see HeldScalars)
        return oneHot.to(dtype).sub(shift);
    }
}
