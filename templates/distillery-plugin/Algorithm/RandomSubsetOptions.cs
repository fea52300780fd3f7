using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace DistilleryPlugin1;

/// <summary>
/// The manifest's <c>algorithm.options</c> for <see cref="RandomSubset"/>, in camel case (<c>"imagesPerClass": 10</c>).
/// The host checks the attributes before the run starts and reports a wrong value with its manifest path;
/// <c>distillery plugins</c> lists each option with its type, default and description.
/// </summary>
public sealed class RandomSubsetOptions
{
    /// <summary>Real images kept per class; the support set holds this many times the class count.</summary>
    [Range(1, int.MaxValue), Description("Real images kept per class.")]
    public int ImagesPerClass { get; set; } = 10;
}
