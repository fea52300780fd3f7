using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Datasets;

public sealed class StandardizeOptions
{
    [Range(0.0, double.MaxValue), Description("Added to each channel's standard deviation, so a constant channel does not divide by zero.")]
    public double Epsilon { get; set; } = 1e-8;
}
