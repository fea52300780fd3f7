using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Datasets;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Datasets.IdxTestFiles;

namespace Distillery.Tests.Datasets;

public sealed class MnistFolderDatasetTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loads_exact_pixels_and_labels(bool gzip)
    {
        WriteMnistFolder(_temp.Path, trainCount: 12, testCount: 5, gzip);

        var splits = new MnistDataset().Load(Run(), new MnistFolderOptions { Path = _temp.Path });

        var train = splits.Train;
        train.Images.shape.Should().Equal(12, 1, 28, 28);
        train.Images.dtype.Should().Be(torch.ScalarType.Float32);
        train.Images.device_type.Should().Be(DeviceType.CPU);
        train.Labels.dtype.Should().Be(torch.ScalarType.Int64);
        train.Labels.data<long>().ToArray().Should().Equal(Enumerable.Range(0, 12).Select(i => (long)(i % 10)));
        var expected = Pixels(12, 28, 28).Select(b => b / 255f).ToArray();
        train.Images.data<float>().ToArray().Should().Equal(expected);
        train.ClassNames.Should().Equal(ClassNames.Mnist);
        splits.Test.Images.shape.Should().Equal(5, 1, 28, 28);
    }

    [Fact]
    public void Raw_and_gzip_folders_give_the_same_tensors()
    {
        var raw = Path.Combine(_temp.Path, "raw");
        var gz = Path.Combine(_temp.Path, "gz");
        WriteMnistFolder(raw, 20, 10, gzip: false);
        WriteMnistFolder(gz, 20, 10, gzip: true);

        var a = new KmnistDataset().Load(Run(), new MnistFolderOptions { Path = raw });
        var b = new KmnistDataset().Load(Run(), new MnistFolderOptions { Path = gz });

        SameValues(a.Train.Images, b.Train.Images).Should().BeTrue();
        SameValues(a.Test.Labels, b.Test.Labels).Should().BeTrue();
        a.Train.ClassNames.Should().Equal("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo");
    }

    [Fact]
    public void Limits_take_the_first_images()
    {
        WriteMnistFolder(_temp.Path, 30, 15, gzip: true);

        var splits = new MnistDataset().Load(Run(), new MnistFolderOptions { Path = _temp.Path, TrainLimit = 7, TestLimit = 100 });

        splits.Train.Count.Should().Be(7);
        splits.Test.Count.Should().Be(15);
        splits.Train.Labels.data<long>().ToArray().Should().Equal(0, 1, 2, 3, 4, 5, 6);
        splits.Train.Images[6].data<float>().ToArray().Should().Equal(Pixels(7, 28, 28)[(6 * 784)..].Select(b => b / 255f));
    }

    [Fact]
    public void Missing_path_option_asks_for_it()
    {
        var error = Assert.Throws<OptionException>(() => new MnistDataset().Load(Run(), new MnistFolderOptions()));

        error.Message.Should().StartWith("options.path: ").And.Contain("train-images-idx3-ubyte");
    }

    [Fact]
    public void Missing_folder_is_named()
    {
        var folder = Path.Combine(_temp.Path, "no-such-folder");

        var error = Assert.Throws<OptionException>(() => new MnistDataset().Load(Run(), new MnistFolderOptions { Path = folder }));

        error.Message.Should().StartWith($"options.path: {folder}: dataset folder not found");
        // A file where the folder should be is told so.
        File.WriteAllText(folder, "");
        Assert.Throws<OptionException>(() => new MnistDataset().Load(Run(), new MnistFolderOptions { Path = folder }))
            .Message.Should().Be($"options.path: {folder} is a file; give the folder that holds {MnistLayout.Listing}");
    }

    [Fact]
    public void Missing_file_is_named_with_what_was_looked_for()
    {
        WriteMnistFolder(_temp.Path, 10, 10, gzip: true);
        File.Delete(Path.Combine(_temp.Path, "t10k-labels-idx1-ubyte.gz"));

        var error = Assert.Throws<DataFormatException>(() => new MnistDataset().Load(Run(), new MnistFolderOptions { Path = _temp.Path }));

        error.Message.Should().Contain(Path.Combine(_temp.Path, "t10k-labels-idx1-ubyte"))
            .And.Contain("not found").And.Contain("t10k-labels-idx1-ubyte.gz");
    }

    [Fact]
    public void Image_label_count_mismatch_names_both_files_and_counts()
    {
        WriteMnistFolder(_temp.Path, 10, 10, gzip: false);
        var labels = Write(_temp.Path, "train-labels-idx1-ubyte", Labels(new byte[8]), gzip: false);
        var images = Path.Combine(_temp.Path, "train-images-idx3-ubyte");

        var error = Assert.Throws<DataFormatException>(() => new MnistDataset().Load(Run(), new MnistFolderOptions { Path = _temp.Path }));

        error.Message.Should().Contain(labels).And.Contain(images).And.Contain("8 labels").And.Contain("10 images")
            .And.Contain("count mismatch");
    }

    [Fact]
    public void Label_outside_the_classes_names_the_file()
    {
        WriteMnistFolder(_temp.Path, 10, 3, gzip: false);
        var labels = Write(_temp.Path, "t10k-labels-idx1-ubyte", Labels([1, 10, 2]), gzip: false);

        var error = Assert.Throws<DataFormatException>(() => new MnistDataset().Load(Run(), new MnistFolderOptions { Path = _temp.Path }));

        error.Message.Should().Contain(labels).And.Contain("label 10 at index 1");
    }

    [Fact]
    public void Truncated_file_in_a_folder_is_named()
    {
        WriteMnistFolder(_temp.Path, 10, 10, gzip: false);
        var images = Path.Combine(_temp.Path, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, File.ReadAllBytes(images)[..1000]);

        var error = Assert.Throws<DataFormatException>(() => new MnistDataset().Load(Run(), new MnistFolderOptions { Path = _temp.Path }));

        error.Message.Should().Contain(images).And.Contain("truncated");
    }

    [Fact]
    public void Fashion_mnist_defaults_to_the_installed_folder_and_exports_its_names()
    {
        new FashionMnistOptions().Path.Should().Be("/usr/share/datasets/fashion-mnist");
        new MnistFolderOptions().Path.Should().BeNull();
        ExportName<FashionMnistDataset>().Should().Be("fashion-mnist");
        ExportName<MnistDataset>().Should().Be("mnist");
        ExportName<KmnistDataset>().Should().Be("kmnist");
        ExportName<FashionMnistSampleDataset>().Should().Be("fashion-mnist-sample");
        ((IPlugin)new FashionMnistDataset()).OptionsType.Should().Be<FashionMnistOptions>();
    }

    private static string ExportName<T>() =>
        typeof(T).GetCustomAttributes(typeof(ExportDatasetAttribute), false).Cast<ExportDatasetAttribute>().Single().Name;
}
