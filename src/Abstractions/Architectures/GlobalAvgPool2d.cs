using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Architectures;

/// <summary>
/// The torch module of <see cref="Layer.GlobalAvgPool"/>: images [n, C, H, W] → [n, C], each channel's mean over the
/// pixels, in the input's dtype and on its device. No parameters.
/// </summary>
public sealed class GlobalAvgPool2d() : nn.Module<Tensor, Tensor>(nameof(GlobalAvgPool2d))
{
    /// <summary>x [n, C, H, W] → [n, C]; the caller owns the result.</summary>
    public override Tensor forward(Tensor input) => input.mean([2, 3]);
}
