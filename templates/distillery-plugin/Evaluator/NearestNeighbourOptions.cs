using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace DistilleryPlugin1;

/// <summary>
/// The options of <see cref="NearestNeighbourEvaluator"/> in a manifest's <c>evaluation</c> entry, in camel case
/// (<c>"neighbours": 1</c>). The host checks the attributes before the run starts and reports a wrong value with its path.
/// </summary>
public sealed class NearestNeighbourOptions
{
    /// <summary>k: how many of the nearest support images vote on a test image's class.</summary>
    [Range(1, 1000), Description("Nearest support images that vote on each test image's class (k).")]
    public int Neighbours { get; set; } = 1;

    /// <summary>Test images compared with the support set at once; bounds memory to BlockSize × support-size distances.</summary>
    [Range(1, int.MaxValue), Description("Test images per block (bounds memory).")]
    public int BlockSize { get; set; } = 4096;
}
