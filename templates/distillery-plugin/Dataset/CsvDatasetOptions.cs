using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace DistilleryPlugin1;

/// <summary>
/// The manifest's <c>dataset.options</c> for <see cref="CsvDataset"/>, in camel case (<c>"path": "data"</c>).
/// The host checks the attributes before the run starts and reports a wrong value with its manifest path.
/// </summary>
public sealed class CsvDatasetOptions
{
    /// <summary>The folder holding train.csv and test.csv, absolute or relative to the working directory.</summary>
    [Description("Folder holding train.csv and test.csv (absolute, or relative to the working directory).")]
    public string? Path { get; set; }

    /// <summary>C: channels per image (1 grey, 3 RGB).</summary>
    [Range(1, 64), Description("Channels per image (1 grey, 3 RGB).")]
    public int Channels { get; set; } = 1;

    /// <summary>H: image height in pixels.</summary>
    [Range(1, 4096), Description("Image height in pixels.")]
    public int Height { get; set; } = 28;

    /// <summary>W: image width in pixels.</summary>
    [Range(1, 4096), Description("Image width in pixels.")]
    public int Width { get; set; } = 28;

    /// <summary>The pixel value that means full intensity; values are divided by it, so images lie in [0, 1].</summary>
    [Range(0.0, double.MaxValue, MinimumIsExclusive = true), Description("The pixel value of full intensity (255 for 8-bit images); values must lie in [0, maxValue].")]
    public double MaxValue { get; set; } = 255;
}
