using Distillery.Abstractions;
using Distillery.Abstractions.Runs;
using Distillery.Datasets;
using FluentAssertions;
using StbImageWriteSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Datasets;

public sealed class ImageFolderTests
{
    /// <summary>Writes an interleaved 8-bit image as PNG (lossless) or JPEG (quality 100).</summary>
    private static void WriteImage(string path, int width, int height, int channels, Func<int, int, int, byte> pixel)
    {
        var data = new byte[width * height * channels];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                for (var c = 0; c < channels; c++)
                    data[(y * width + x) * channels + c] = pixel(x, y, c);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var stream = File.Create(path);
        var components = channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue;
        if (path.EndsWith(".png", StringComparison.Ordinal)) new ImageWriter().WritePng(data, width, height, components, stream);
        else new ImageWriter().WriteJpg(data, width, height, components, stream, 100);
    }

    private static void WriteUniform(string path, byte value = 128) => WriteImage(path, 4, 4, 3, (_, _, _) => value);

    private static RunContext Run(RecordingLogger logger) =>
        new() { Device = CPU, DType = ScalarType.Float32, Seed = 0, Logger = logger };

    private static float[] Plane(Tensor images, int index, int channel) =>
        images[index, channel].contiguous().data<float>().ToArray();

    [Fact]
    public void Classes_are_the_sorted_train_folders_shared_with_test()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        WriteUniform(folder.File("train/ant/b.png"), 10);
        WriteUniform(folder.File("train/ant/a.PNG"), 20);
        WriteUniform(folder.File("train/Zebra/z.jpeg"), 30);
        File.WriteAllText(folder.File("train/ant/notes.txt"), "not an image");
        WriteUniform(folder.File("test/ant/c.png"), 40);

        var splits = new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 4 });

        splits.Train.ClassNames.Should().Equal("Zebra", "ant"); // ordinal: upper case sorts first
        splits.Test.ClassNames.Should().Equal("Zebra", "ant");
        splits.Train.Labels.data<long>().ToArray().Should().Equal(0, 1, 1);
        // Within a class, files in ordinal name order: a.PNG (20) before b.png (10).
        splits.Train.Images[1, 0, 0, 0].item<float>().Should().Be(20 / 255f);
        splits.Train.Images[2, 0, 0, 0].item<float>().Should().Be(10 / 255f);
        splits.Test.Labels.data<long>().ToArray().Should().Equal(1);
        splits.Train.Images.shape.Should().Equal(3, 3, 4, 4);
    }

    [Fact]
    public void Landscape_images_are_scaled_by_area_averaging_and_centre_cropped()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        // 96 x 64: the shorter side halves to 32, so each output pixel averages a 2 x 2 block of the centre
        // 64 x 64 square (columns 16…79). R = 2x, G = 3y, B = 7.
        WriteImage(folder.File("train/a/wide.png"), 96, 64, 3, (x, y, c) => (byte)(c == 0 ? 2 * x : c == 1 ? 3 * y : 7));
        Directory.CreateDirectory(folder.File("test"));

        var images = new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path }).Train.Images;

        images.shape.Should().Equal(1, 3, 32, 32);
        var (red, green, blue) = (Plane(images, 0, 0), Plane(images, 0, 1), Plane(images, 0, 2));
        for (var i = 0; i < 32; i++)
            for (var j = 0; j < 32; j++)
            {
                red[i * 32 + j].Should().BeApproximately((2 * (16 + 2 * j) + 1) / 255f, 1e-6f);
                green[i * 32 + j].Should().BeApproximately((6 * i + 1.5f) / 255f, 1e-6f);
                blue[i * 32 + j].Should().BeApproximately(7 / 255f, 1e-6f);
            }
    }

    [Fact]
    public void Portrait_crop_with_an_odd_margin_sits_on_a_half_pixel()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        // 4 wide x 5 high, size 4: no scaling, the centre 4 x 4 window starts at row 0.5, so output row i blends
        // source rows i and i + 1 half and half. Grey value = 10y + x.
        WriteImage(folder.File("train/a/tall.png"), 4, 5, 1, (x, y, _) => (byte)(10 * y + x));
        Directory.CreateDirectory(folder.File("test"));

        var images = new ImageFolderDataset().Load(IdxTestFiles.Run(),
            new ImageFolderOptions { Path = folder.Path, Size = 4, Channels = 1 }).Train.Images;

        images.shape.Should().Equal(1, 1, 4, 4);
        var grey = Plane(images, 0, 0);
        for (var i = 0; i < 4; i++)
            for (var j = 0; j < 4; j++)
                grey[i * 4 + j].Should().BeApproximately((10 * i + 5 + j) / 255f, 1e-6f);
    }

    [Fact]
    public void Small_images_are_enlarged_by_repeating_pixels()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        WriteImage(folder.File("train/a/tiny.png"), 2, 2, 1, (x, y, _) => (byte)(100 * y + 50 * x));
        Directory.CreateDirectory(folder.File("test"));

        var images = new ImageFolderDataset().Load(IdxTestFiles.Run(),
            new ImageFolderOptions { Path = folder.Path, Size = 4, Channels = 1 }).Train.Images;

        var expected = tensor(new float[] { 0, 0, 50, 50, 0, 0, 50, 50, 100, 100, 150, 150, 100, 100, 150, 150 }, [1, 1, 4, 4]) / 255f;
        images.allclose(expected, rtol: 0, atol: 1e-6).Should().BeTrue();
    }

    [Fact]
    public void Grey_is_replicated_to_rgb_and_rgb_becomes_luminance()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        WriteImage(folder.File("train/a/grey.png"), 3, 3, 1, (x, y, _) => (byte)(20 * x + y));
        WriteImage(folder.File("train/b/colour.png"), 3, 3, 3, (_, _, c) => (byte)(c == 0 ? 200 : c == 1 ? 100 : 50));
        Directory.CreateDirectory(folder.File("test"));

        var rgb = new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 3 }).Train.Images;
        var grey = new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 3, Channels = 1 }).Train.Images;

        IdxTestFiles.SameValues(rgb[0, 0], rgb[0, 1]).Should().BeTrue();
        IdxTestFiles.SameValues(rgb[0, 0], rgb[0, 2]).Should().BeTrue();
        rgb[0, 0, 1, 2].item<float>().Should().Be(41 / 255f);
        grey.shape.Should().Equal(2, 1, 3, 3);
        grey[1, 0, 1, 1].item<float>().Should().BeApproximately((0.299f * 200 + 0.587f * 100 + 0.114f * 50) / 255f, 1e-6f);
        IdxTestFiles.SameValues(grey[0, 0], rgb[0, 0]).Should().BeTrue();
    }

    [Fact]
    public void Jpeg_files_are_decoded()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        WriteImage(folder.File("train/a/photo.jpg"), 40, 40, 3, (_, _, c) => (byte)(c == 0 ? 200 : c == 1 ? 100 : 50));
        WriteImage(folder.File("test/a/photo.JPG"), 40, 40, 3, (_, _, c) => (byte)(c == 0 ? 200 : c == 1 ? 100 : 50));

        var splits = new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 8 });

        splits.Test.Count.Should().Be(1);
        var means = splits.Train.Images.mean([0L, 2L, 3L]).data<float>().ToArray();
        means[0].Should().BeApproximately(200 / 255f, 3 / 255f); // JPEG is lossy, even at quality 100
        means[1].Should().BeApproximately(100 / 255f, 3 / 255f);
        means[2].Should().BeApproximately(50 / 255f, 3 / 255f);
    }

    [Fact]
    public void A_corrupt_file_fails_naming_it_by_default()
    {
        using var folder = new TempFolder();
        WriteUniform(folder.File("train/a/good.png"));
        File.WriteAllText(folder.File("train/a/broken.png"), "this is not a PNG");
        Directory.CreateDirectory(folder.File("test"));

        var load = () => new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 4 });

        var error = load.Should().Throw<DataFormatException>().Which;
        error.Path.Should().Be(folder.File("train/a/broken.png"));
        error.Message.Should().Contain("broken.png").And.Contain("skip");
    }

    [Fact]
    public void With_skip_a_corrupt_file_is_left_out_with_a_warning_naming_it()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        WriteUniform(folder.File("train/a/1.png"), 10);
        File.WriteAllBytes(folder.File("train/a/2.jpg"), [0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3]);
        WriteUniform(folder.File("train/a/3.png"), 30);
        WriteUniform(folder.File("train/b/4.png"), 40);
        File.WriteAllBytes(folder.File("train/b/empty.png"), []);
        Directory.CreateDirectory(folder.File("test"));
        var logger = new RecordingLogger();

        var train = new ImageFolderDataset().Load(Run(logger),
            new ImageFolderOptions { Path = folder.Path, Size = 4, OnBadFile = BadFilePolicy.Skip }).Train;

        train.Count.Should().Be(3);
        train.Labels.data<long>().ToArray().Should().Equal(0, 0, 1);
        train.Images.reshape(3, -1).select(1, 0).data<float>().ToArray().Should().Equal(10 / 255f, 30 / 255f, 40 / 255f);
        logger.Warnings.Should().HaveCount(2);
        logger.Warnings.Should().Contain(w => w.Contains(folder.File("train/a/2.jpg")));
        logger.Warnings.Should().Contain(w => w.Contains(folder.File("train/b/empty.png")));
    }

    [Fact]
    public void A_test_class_missing_from_train_is_an_error()
    {
        using var folder = new TempFolder();
        WriteUniform(folder.File("train/a/1.png"));
        WriteUniform(folder.File("test/b/1.png"));

        var load = () => new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path, Size = 4 });

        load.Should().Throw<DataFormatException>().Which.Message.Should().Contain("'b'");
    }

    [Fact]
    public void Missing_split_folder_and_unset_path_are_clear_errors()
    {
        using var folder = new TempFolder();
        WriteUniform(folder.File("train/a/1.png"));

        var noTest = () => new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions { Path = folder.Path });
        noTest.Should().Throw<DataFormatException>().Which.Path.Should().Be(folder.File("test"));

        var unset = () => new ImageFolderDataset().Load(IdxTestFiles.Run(), new ImageFolderOptions());
        unset.Should().Throw<DistilleryException>().WithMessage("options.path: dataset 'image-folder' needs the folder*");
    }

    [Fact]
    public void The_channels_that_plugins_lists_are_the_channels_the_binder_accepts()
    {
        var described = Distillery.Engine.Manifests.OptionsSchema.Describe(typeof(ImageFolderOptions)).Single(o => o.Name == "channels");
        described.Constraint.Should().Be("must be one of 1, 3");

        foreach (var channels in new[] { 0, 1, 2, 3, 4 })
        {
            var problems = new List<string>();
            Distillery.Engine.Manifests.OptionsBinder.Bind(typeof(ImageFolderOptions),
                new System.Text.Json.Nodes.JsonObject { ["path"] = "images", ["channels"] = channels }, "dataset.options", problems);
            if (channels is 1 or 3) problems.Should().BeEmpty();
            else problems.Should().Equal($"dataset.options.channels: must be one of 1, 3, got {channels}");
        }
    }
}
