using Distillery.Datasets;
using FluentAssertions;
using Xunit;
using static Distillery.Tests.Datasets.IdxTestFiles;

namespace Distillery.Tests.Datasets;

public sealed class FashionMnistTests
{
    [Fact]
    public void Embedded_sample_has_500_and_100_images_per_class()
    {
        var splits = new FashionMnistSampleDataset().Load(Run(), new FashionMnistSampleOptions());

        splits.Train.Count.Should().Be(5000);
        splits.Test.Count.Should().Be(1000);
        splits.Train.CountPerClass().Should().AllBeEquivalentTo(500);
        splits.Test.CountPerClass().Should().AllBeEquivalentTo(100);
        splits.Train.Images.shape.Should().Equal(5000, 1, 28, 28);
        splits.Train.ClassNames.Should().Equal(ClassNames.FashionMnist);
        splits.Train.Images.min().item<float>().Should().BeGreaterThanOrEqualTo(0f);
        splits.Train.Images.max().item<float>().Should().BeApproximately(1f, 1e-6f);
    }

    [Fact]
    public void Embedded_sample_is_the_first_images_of_each_class_of_the_real_set()
    {
        // Needs the real set (apt package dataset-fashion-mnist), like the test below.
        var sample = new FashionMnistSampleDataset().Load(Run(), new FashionMnistSampleOptions { TestLimit = 20 });
        var real = new FashionMnistDataset().Load(Run(), new FashionMnistOptions { TrainLimit = 1, TestLimit = 20 });

        // The real set's first 20 test images are each among the first 100 of their class, so the sample,
        // which keeps file order, starts with the same 20.
        SameValues(sample.Test.Images, real.Test.Images).Should().BeTrue();
        SameValues(sample.Train.Images[0], real.Train.Images[0]).Should().BeTrue();
    }

    [Fact]
    public void Real_fashion_mnist_loads_60000_and_10000_images()
    {
        var splits = new FashionMnistDataset().Load(Run(), new FashionMnistOptions());

        splits.Train.Count.Should().Be(60000);
        splits.Test.Count.Should().Be(10000);
        splits.Train.CountPerClass().Should().AllBeEquivalentTo(6000);
        splits.Test.CountPerClass().Should().AllBeEquivalentTo(1000);
        splits.Train.Images.shape.Should().Equal(60000, 1, 28, 28);
    }
}
