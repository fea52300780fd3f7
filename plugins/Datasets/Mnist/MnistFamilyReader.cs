using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Datasets;

/// <summary>
/// Turns the four MNIST-layout files of a source into train and test <see cref="ImageSet"/>s: images
/// float32 [N, 1, H, W] in [0, 1] and labels int64 [N], on the CPU, after checking that the files agree.
/// </summary>
public static class MnistFamilyReader
{
    /// <param name="trainLimit">Keep only the first N training images (0 = all).</param>
    /// <param name="testLimit">Keep only the first N test images (0 = all).</param>
    public static (ImageSet Train, ImageSet Test) Read(IIdxSource source, IReadOnlyList<string> classNames,
        int trainLimit = 0, int testLimit = 0)
    {
        var (trainImages, trainLabels, testImages, testLabels) = Agreeing(source.Read);
        CheckLabels(trainLabels, classNames.Count);
        CheckLabels(testLabels, classNames.Count);
        return (ToImageSet(trainImages, trainLabels, classNames, trainLimit),
                ToImageSet(testImages, testLabels, classNames, testLimit));
    }

    /// <summary>The cheap check behind <c>validate</c>: the four files exist, their headers parse and agree; no data is read.</summary>
    public static void Check(IIdxSource source) => Agreeing(source.Check);

    /// <summary>The four files through <paramref name="open"/>, after checking that their headers agree with each other.</summary>
    private static (IdxArray TrainImages, IdxArray TrainLabels, IdxArray TestImages, IdxArray TestLabels) Agreeing(
        Func<string, int, IdxArray> open)
    {
        var (trainImages, trainLabels) = Pair(open, MnistLayout.TrainImages, MnistLayout.TrainLabels);
        var (testImages, testLabels) = Pair(open, MnistLayout.TestImages, MnistLayout.TestLabels);

        // Train and test must share an image size, or no model fitted on one can be evaluated on the other.
        if (!trainImages.Dimensions.AsSpan(1).SequenceEqual(testImages.Dimensions.AsSpan(1)))
            throw new DataFormatException(testImages.Source,
                $"images are {testImages.Dimensions[1]}x{testImages.Dimensions[2]} but those of {trainImages.Source} " +
                $"are {trainImages.Dimensions[1]}x{trainImages.Dimensions[2]}");
        return (trainImages, trainLabels, testImages, testLabels);
    }

    private static (IdxArray Images, IdxArray Labels) Pair(Func<string, int, IdxArray> open, string imagesName, string labelsName)
    {
        var images = open(imagesName, IdxFile.UInt8ImagesMagic);
        var labels = open(labelsName, IdxFile.UInt8LabelsMagic);
        if (images.Count != labels.Count)
            throw new DataFormatException(labels.Source,
                $"image/label count mismatch: {labels.Count} labels here but {images.Count} images in {images.Source}");
        return (images, labels);
    }

    /// <summary>A label outside the class list would index past the class names (and one-hot encodings) later.</summary>
    private static void CheckLabels(IdxArray labels, int classCount)
    {
        var bad = Array.FindIndex(labels.Data, l => l >= classCount);
        if (bad >= 0)
            throw new DataFormatException(labels.Source,
                $"label {labels.Data[bad]} at index {bad} is not a class: this dataset has {classCount} classes (0-{classCount - 1})");
    }

    private static ImageSet ToImageSet(IdxArray images, IdxArray labels, IReadOnlyList<string> classNames, int limit)
    {
        var count = limit > 0 ? Math.Min(limit, images.Count) : images.Count;
        int height = images.Dimensions[1], width = images.Dimensions[2];
        var pixels = count == images.Count ? images.Data : images.Data.AsSpan(0, count * height * width).ToArray();
        var labelValues = new long[count];
        for (var i = 0; i < count; i++) labelValues[i] = labels.Data[i];

        using var scope = NewDisposeScope();
        var bytes = tensor(pixels, [count, 1, height, width], ScalarType.Byte);
        using var levels = 255f.ToScalar(); // held for the native call (see HeldScalars)
        var x = bytes.to_type(ScalarType.Float32).div_(levels);
        var y = tensor(labelValues, [count], ScalarType.Int64);
        return new ImageSet(x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope(), classNames);
    }
}
