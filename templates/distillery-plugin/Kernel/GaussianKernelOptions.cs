using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace DistilleryPlugin1;

/// <summary>
/// The manifest's <c>kernel.options</c> for <see cref="GaussianKernel"/>, in camel case (<c>"lengthScale": 1.0</c>).
/// The host checks the attributes before the run starts and reports a wrong value with its manifest path.
/// </summary>
public sealed class GaussianKernelOptions
{
    /// <summary>ℓ: how far apart (root-mean-square difference per pixel) two images are when k = e^(−1/2).</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true),
     Description("Length scale per pixel: the root-mean-square pixel difference at which k = exp(-1/2).")]
    public double LengthScale { get; set; } = 1.0;
}
