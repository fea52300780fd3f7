using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Baselines.Coresets;

public sealed class CoresetOptions
{
    [Range(1, int.MaxValue), Description("Real images kept per class.")]
    public int ImagesPerClass { get; set; } = 10;

    [Range(1, int.MaxValue), Description("Choose among this many random images of each class (bounds time and memory on large classes); null: the whole class.")]
    public int? CandidatePoolSize { get; set; }
}
