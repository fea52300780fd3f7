using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Data;

/// <summary>
/// Labelled images: <see cref="Images"/> is [N, C, H, W] floating point, <see cref="Labels"/> is int64 [N]
/// with values in [0, ClassNames.Count).
/// </summary>
/// <remarks>
/// A record of references: it does not own or copy its tensors, and <c>with</c> expressions share them. Whoever made the
/// tensors disposes them (for the run's sets, the host).
/// </remarks>
/// <param name="Images">Images [N, C, H, W], floating point: pixel values in [0, 1] as loaded, the preprocessed space in a run.</param>
/// <param name="Labels">Class indices, int64 [N], in [0, <see cref="ClassCount"/>).</param>
/// <param name="ClassNames">The names of the classes, in class-index order (e.g. <c>T-shirt/top</c>, <c>Trouser</c>, …).</param>
public sealed record ImageSet(Tensor Images, Tensor Labels, IReadOnlyList<string> ClassNames)
{
    /// <summary>N, the number of images.</summary>
    public int Count => (int)Images.shape[0];

    /// <summary>The number of classes (of <see cref="ClassNames"/>; some may have no image in this set).</summary>
    public int ClassCount => ClassNames.Count;

    /// <summary>C, the channels per image (1 for grey, 3 for colour).</summary>
    public int Channels => (int)Images.shape[1];

    /// <summary>H, the image height in pixels.</summary>
    public int Height => (int)Images.shape[2];

    /// <summary>W, the image width in pixels.</summary>
    public int Width => (int)Images.shape[3];

    /// <summary>Number of images of each class, indexed by class.</summary>
    /// <returns>An array of <see cref="ClassCount"/> counts.</returns>
    public long[] CountPerClass()
    {
        var counts = torch.bincount(Labels.cpu(), minlength: ClassCount);
        return counts.data<long>().ToArray();
    }

    /// <summary>
    /// Indices of <paramref name="perClass"/> images of every class, drawn without replacement with
    /// <paramref name="generator"/>, grouped by class (all of class 0, then class 1, …).
    /// </summary>
    /// <param name="perClass">Images per class.</param>
    /// <param name="generator">A CPU generator from <see cref="Runs.RunContext.CreateGenerator"/>.</param>
    /// <returns>Indices into this set, for <see cref="Select"/>.</returns>
    /// <exception cref="DistilleryException">A class has fewer than <paramref name="perClass"/> images.</exception>
    public long[] SampleClassBalanced(int perClass, Generator generator) =>
        new ClassBalancedSampler(this).Sample(perClass, generator);

    /// <summary>The images and labels at <paramref name="indices"/>, on the same device as this set.</summary>
    /// <param name="indices">Indices into this set, in the order wanted.</param>
    /// <returns>A new set whose tensors are new (copies of the rows), owned by the caller, with the same class names.</returns>
    public ImageSet Select(long[] indices)
    {
        using var index = torch.tensor(indices, device: Images.device);
        return new ImageSet(Images.index_select(0, index), Labels.index_select(0, index.to(Labels.device)), ClassNames);
    }
}

/// <summary>What a dataset loader returns.</summary>
/// <param name="Description">One line on what was loaded and from where, e.g. <c>Fashion-MNIST from /usr/share/datasets/fashion-mnist</c> (informational).</param>
/// <param name="Train">The training split: pixel values in [0, 1], on the CPU.</param>
/// <param name="Test">The test split, with the same class names, channels and image size as <paramref name="Train"/>.</param>
public sealed record DatasetSplits(string Description, ImageSet Train, ImageSet Test);
