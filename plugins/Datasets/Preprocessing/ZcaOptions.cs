using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Datasets;

public sealed class ZcaOptions
{
    [Range(0.0, double.MaxValue),
     Description("Ridge added to every eigenvalue of the feature covariance, relative to the mean eigenvalue: " +
                 "W = U (S + regularization * mean(S))^(-1/2) U^T. Must be > 0 when the covariance is singular " +
                 "(always with layerNorm, or with fewer training images than features).")]
    public double Regularization { get; set; } = 0.1;

    [Description("Before whitening, give each image zero mean and unit L2 norm over all its features " +
                 "(as KIP / neural-tangents do). Inverse then cannot restore the original brightness and contrast, " +
                 "so it rescales each image to [0, 1] for display.")]
    public bool LayerNorm { get; set; } = true;
}
