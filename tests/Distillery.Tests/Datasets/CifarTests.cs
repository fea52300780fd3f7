using Distillery.Abstractions;
using Distillery.Datasets;
using FluentAssertions;
using Xunit;
using static Distillery.Tests.Datasets.IdxTestFiles;
using static TorchSharp.torch;

namespace Distillery.Tests.Datasets;

/// <summary>Writes small files in the published CIFAR binary format.</summary>
internal static class CifarTestFiles
{
    /// <summary>Pixel byte of record r at channel c, row y, column x: distinct per channel, so a swap shows.</summary>
    public static byte Pixel(int r, int c, int y, int x) => (byte)((r * 37 + c * 85 + y * 7 + x) % 256);

    /// <summary>Records of <paramref name="labels"/> (each record's label bytes) followed by 3072 pattern bytes.</summary>
    public static byte[] Records(int firstRecord, params byte[][] labels)
    {
        var recordBytes = labels.Length == 0 ? 0 : labels[0].Length + 3072;
        var bytes = new byte[labels.Length * recordBytes];
        for (var i = 0; i < labels.Length; i++)
        {
            var offset = i * recordBytes;
            labels[i].CopyTo(bytes, offset);
            offset += labels[i].Length;
            // R plane, then G, then B; each 32 rows of 32 columns.
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < 32; y++)
                    for (var x = 0; x < 32; x++)
                        bytes[offset + c * 1024 + y * 32 + x] = Pixel(firstRecord + i, c, y, x);
        }
        return bytes;
    }

    public static void Names(string path, int count, string prefix) =>
        File.WriteAllText(path, string.Join("\n", Enumerable.Range(0, count).Select(i => $"{prefix}{i}")) + "\n\n");

    /// <summary>CIFAR-10: batches 1–5 with 2 records each (labels 0…9 in order), test_batch with 3 (labels 9, 8, 7).</summary>
    public static void WriteCifar10(string folder)
    {
        for (var b = 0; b < 5; b++)
            File.WriteAllBytes(Path.Combine(folder, $"data_batch_{b + 1}.bin"), Records(2 * b, [(byte)(2 * b)], [(byte)(2 * b + 1)]));
        File.WriteAllBytes(Path.Combine(folder, "test_batch.bin"), Records(100, [9], [8], [7]));
        Names(Path.Combine(folder, "batches.meta.txt"), 10, "class");
    }

    /// <summary>CIFAR-100: train.bin with 4 records (coarse r, fine 50 + r), test.bin with 2 (coarse 19, fine 99 − r).</summary>
    public static void WriteCifar100(string folder)
    {
        File.WriteAllBytes(Path.Combine(folder, "train.bin"), Records(0, [0, 50], [1, 51], [2, 52], [3, 53]));
        File.WriteAllBytes(Path.Combine(folder, "test.bin"), Records(10, [19, 99], [19, 98]));
        Names(Path.Combine(folder, "fine_label_names.txt"), 100, "fine");
        Names(Path.Combine(folder, "coarse_label_names.txt"), 20, "coarse");
    }

    /// <summary>The images the loader should return for records first … first + count − 1.</summary>
    public static Tensor Expected(int first, int count)
    {
        var values = new float[count * 3072];
        for (var r = 0; r < count; r++)
            for (var c = 0; c < 3; c++)
                for (var y = 0; y < 32; y++)
                    for (var x = 0; x < 32; x++)
                        values[((r * 3 + c) * 32 + y) * 32 + x] = Pixel(first + r, c, y, x) / 255f;
        return tensor(values, [count, 3, 32, 32]);
    }
}

public sealed class CifarTests
{
    [Fact]
    public void Cifar10_reads_every_batch_with_exact_pixels_channel_order_and_labels()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        CifarTestFiles.WriteCifar10(folder.Path);

        var splits = new Cifar10Dataset().Load(Run(), new Cifar10Options { Path = folder.Path });

        splits.Train.Images.shape.Should().Equal(10, 3, 32, 32);
        splits.Train.Images.dtype.Should().Be(ScalarType.Float32);
        SameValues(splits.Train.Images, CifarTestFiles.Expected(0, 10)).Should().BeTrue();
        splits.Train.Labels.data<long>().ToArray().Should().Equal(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        SameValues(splits.Test.Images, CifarTestFiles.Expected(100, 3)).Should().BeTrue();
        splits.Test.Labels.data<long>().ToArray().Should().Equal(9, 8, 7);
        splits.Train.ClassNames.Should().HaveCount(10).And.StartWith("class0");

        // Spot checks against the raw record layout: byte 1 + p of a record is pixel p of the R, G, B planes.
        var first = File.ReadAllBytes(folder.File("data_batch_1.bin"));
        var images = splits.Train.Images;
        images[0, 0, 0, 1].item<float>().Should().Be(first[1 + 1] / 255f);
        images[0, 1, 0, 0].item<float>().Should().Be(first[1 + 1024] / 255f);
        images[0, 2, 31, 31].item<float>().Should().Be(first[1 + 3071] / 255f);
        images[1, 0, 2, 3].item<float>().Should().Be(first[3073 + 1 + 2 * 32 + 3] / 255f);
    }

    [Fact]
    public void Cifar10_limits_keep_the_first_records_across_batches()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        CifarTestFiles.WriteCifar10(folder.Path);

        var splits = new Cifar10Dataset().Load(Run(), new Cifar10Options { Path = folder.Path, TrainLimit = 3, TestLimit = 1 });

        SameValues(splits.Train.Images, CifarTestFiles.Expected(0, 3)).Should().BeTrue();
        splits.Train.Labels.data<long>().ToArray().Should().Equal(0, 1, 2);
        splits.Test.Labels.data<long>().ToArray().Should().Equal(9);
    }

    [Fact]
    public void Cifar10_accepts_the_folder_above_the_extracted_tarball()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        var extracted = Directory.CreateDirectory(folder.File("cifar-10-batches-bin")).FullName;
        CifarTestFiles.WriteCifar10(extracted);

        new Cifar10Dataset().Load(Run(), new Cifar10Options { Path = folder.Path }).Train.Count.Should().Be(10);
    }

    [Theory]
    [InlineData(CifarLabels.Fine, new long[] { 50, 51, 52, 53 }, new long[] { 99, 98 }, 100, "fine0")]
    [InlineData(CifarLabels.Coarse, new long[] { 0, 1, 2, 3 }, new long[] { 19, 19 }, 20, "coarse0")]
    public void Cifar100_reads_the_chosen_label(CifarLabels which, long[] train, long[] test, int classes, string firstName)
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        CifarTestFiles.WriteCifar100(folder.Path);

        var splits = new Cifar100Dataset().Load(Run(), new Cifar100Options { Path = folder.Path, Labels = which });

        SameValues(splits.Train.Images, CifarTestFiles.Expected(0, 4)).Should().BeTrue();
        SameValues(splits.Test.Images, CifarTestFiles.Expected(10, 2)).Should().BeTrue();
        splits.Train.Labels.data<long>().ToArray().Should().Equal(train);
        splits.Test.Labels.data<long>().ToArray().Should().Equal(test);
        splits.Train.ClassNames.Should().HaveCount(classes).And.StartWith(firstName);
    }

    [Fact]
    public void A_file_of_partial_records_is_named_with_its_length_and_the_record_size()
    {
        using var folder = new TempFolder();
        CifarTestFiles.WriteCifar100(folder.Path);
        File.WriteAllBytes(folder.File("test.bin"), new byte[2 * 3074 + 5]);

        var load = () => new Cifar100Dataset().Load(Run(), new Cifar100Options { Path = folder.Path });

        var error = load.Should().Throw<DataFormatException>().Which;
        error.Path.Should().Be(folder.File("test.bin"));
        error.Message.Should().Contain("6153").And.Contain("3074");
    }

    [Fact]
    public void A_missing_batch_is_named()
    {
        using var folder = new TempFolder();
        CifarTestFiles.WriteCifar10(folder.Path);
        File.Delete(folder.File("data_batch_3.bin"));

        // Even when the limit means the batch would not be read: the folder is incomplete either way.
        var load = () => new Cifar10Dataset().Load(Run(), new Cifar10Options { Path = folder.Path, TrainLimit = 1 });

        var error = load.Should().Throw<DataFormatException>().Which;
        error.Path.Should().Be(folder.File("data_batch_3.bin"));
        error.Message.Should().Contain("not found");
    }

    [Fact]
    public void A_label_out_of_range_is_named()
    {
        using var folder = new TempFolder();
        CifarTestFiles.WriteCifar10(folder.Path);
        File.WriteAllBytes(folder.File("test_batch.bin"), CifarTestFiles.Records(0, [3], [10]));

        var load = () => new Cifar10Dataset().Load(Run(), new Cifar10Options { Path = folder.Path });

        var error = load.Should().Throw<DataFormatException>().Which;
        error.Path.Should().Be(folder.File("test_batch.bin"));
        error.Message.Should().Contain("record 1").And.Contain("label 10");
    }

    [Fact]
    public void Unset_or_missing_path_is_a_clear_error()
    {
        var unset = () => new Cifar10Dataset().Load(Run(), new Cifar10Options());
        unset.Should().Throw<DistilleryException>().WithMessage("options.path: dataset 'cifar10' needs the folder*data_batch_1.bin*");

        var missing = () => new Cifar100Dataset().Load(Run(), new Cifar100Options { Path = "/nonexistent/cifar" });
        missing.Should().Throw<OptionException>().Which.Message.Should().StartWith("options.path: /nonexistent/cifar: dataset folder not found");
    }
}
