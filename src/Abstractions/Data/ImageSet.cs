using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// Labelled images: <see cref="Images"/> is [N, C, H, W] floating point, <see cref="Labels"/> is int64 [N]
/// with values in [0, ClassNames.Count).
/// </summary>
public sealed record ImageSet(Tensor Images, Tensor Labels, IReadOnlyList<string> ClassNames)
{
    public int Count => (int)Images.shape[0];
    public int ClassCount => ClassNames.Count;
    public int Channels => (int)Images.shape[1];
    public int Height => (int)Images.shape[2];
    public int Width => (int)Images.shape[3];

    /// <summary>Number of images of each class, indexed by class.</summary>
    public long[] CountPerClass()
    {
        var counts = torch.bincount(Labels.cpu(), minlength: ClassCount);
        return counts.data<long>().ToArray();
    }

    /// <summary>
    /// Indices of <paramref name="perClass"/> images of every class, drawn without replacement with
    /// <paramref name="generator"/>, grouped by class (all of class 0, then class 1, …).
    /// </summary>
    public long[] SampleClassBalanced(int perClass, Generator generator) =>
        new ClassBalancedSampler(this).Sample(perClass, generator);

    /// <summary>The images and labels at <paramref name="indices"/>, on the same device as this set.</summary>
    public ImageSet Select(long[] indices)
    {
        using var index = torch.tensor(indices, device: Images.device);
        return new ImageSet(Images.index_select(0, index), Labels.index_select(0, index.to(Labels.device)), ClassNames);
    }
}

/// <summary>What a dataset loader returns.</summary>
public sealed record DatasetSplits(string Description, ImageSet Train, ImageSet Test);
