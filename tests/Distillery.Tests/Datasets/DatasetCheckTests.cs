using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Datasets;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Datasets;

/// <summary>
/// Each bundled dataset's cheap check (what <c>validate</c> calls): missing files and unparsable headers are found
/// without loading, and a good dataset passes.
/// </summary>
public sealed class DatasetCheckTests
{
    private static Action Check<TOptions>(IDatasetLoader<TOptions> dataset, TOptions options) where TOptions : class, new() =>
        () => ((IDatasetLoader)dataset).Check(options);

    [Fact]
    public void Idx_family_good_files_pass_raw_and_gzipped()
    {
        using var folder = new TempFolder();
        IdxTestFiles.WriteMnistFolder(folder.File("raw"), 20, 10, gzip: false);
        IdxTestFiles.WriteMnistFolder(folder.File("gz"), 20, 10, gzip: true);

        Check(new MnistDataset(), new MnistFolderOptions { Path = folder.File("raw") }).Should().NotThrow();
        Check(new FashionMnistDataset(), new FashionMnistOptions { Path = folder.File("gz") }).Should().NotThrow();
        Check(new FashionMnistSampleDataset(), new FashionMnistSampleOptions()).Should().NotThrow();
    }

    public static TheoryData<string, string> IdxDamage => new()
    {
        { "missing folder", "dataset folder not found" },
        { "missing file", "file not found: looked for t10k-labels-idx1-ubyte and t10k-labels-idx1-ubyte.gz" },
        { "truncated", "truncated: the header (20 x 28 x 28) needs 15,680 bytes of data, found 15,580" },
        { "wrong magic", "wrong magic number" },
        { "count mismatch", "image/label count mismatch: 9 labels here but 10 images" },
    };

    [Theory]
    [MemberData(nameof(IdxDamage))]
    public void Idx_family_problems_are_found_without_loading(string damage, string expected)
    {
        using var folder = new TempFolder();
        var data = folder.File("mnist");
        IdxTestFiles.WriteMnistFolder(data, 20, 10, gzip: false);
        switch (damage)
        {
            case "missing folder": data = folder.File("elsewhere"); break;
            case "missing file": File.Delete(Path.Combine(data, "t10k-labels-idx1-ubyte")); break;
            case "truncated":
                var images = Path.Combine(data, "train-images-idx3-ubyte");
                File.WriteAllBytes(images, File.ReadAllBytes(images)[..^100]);
                break;
            case "wrong magic": File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), IdxTestFiles.Encode(0x0803, [20], new byte[20])); break;
            case "count mismatch": File.WriteAllBytes(Path.Combine(data, "t10k-labels-idx1-ubyte"), IdxTestFiles.Labels(new byte[9])); break;
        }

        Check(new MnistDataset(), new MnistFolderOptions { Path = data }).Should().Throw<DistilleryException>(damage)
            .Which.Message.Should().Contain(expected);
    }

    [Fact]
    public void Cifar_missing_or_cut_files_are_found()
    {
        using var folder = new TempFolder();
        CifarTestFiles.WriteCifar10(folder.Path);
        Check(new Cifar10Dataset(), new Cifar10Options { Path = folder.Path }).Should().NotThrow();

        var batch = folder.File("data_batch_3.bin");
        File.WriteAllBytes(batch, File.ReadAllBytes(batch)[..^1]);
        Check(new Cifar10Dataset(), new Cifar10Options { Path = folder.Path }).Should().Throw<DataFormatException>()
            .Which.Path.Should().Be(batch);

        File.Delete(batch);
        Check(new Cifar10Dataset(), new Cifar10Options { Path = folder.Path }).Should().Throw<DataFormatException>()
            .Which.Message.Should().Contain("file not found");
    }

    [Fact]
    public void Image_folder_layout_and_file_signatures_are_checked()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(folder.File("train/a"));
        File.WriteAllBytes(folder.File("train/a/1.png"), ImageFiles.Png(4, 4, 1, (_, _, _) => 9));
        var options = new ImageFolderOptions { Path = folder.Path };

        Check(new ImageFolderDataset(), options).Should().Throw<DataFormatException>().Which.Path.Should().Be(folder.File("test"));

        Directory.CreateDirectory(folder.File("test/a"));
        Check(new ImageFolderDataset(), options).Should().NotThrow();

        File.WriteAllText(folder.File("test/a/notes.jpg"), "not an image");
        Check(new ImageFolderDataset(), options).Should().Throw<DataFormatException>()
            .Which.Message.Should().Contain("notes.jpg").And.Contain("not a PNG or JPEG file");
        options.OnBadFile = BadFilePolicy.Skip;
        Check(new ImageFolderDataset(), options).Should().NotThrow();

        Directory.CreateDirectory(folder.File("train/b"));
        Check(new ImageFolderDataset(), options).Should().Throw<DataFormatException>()
            .Which.Message.Should().Contain("class 'b' has no training images");
    }
}
