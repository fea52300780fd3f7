using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Distillery.Engine.Outputs;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Host;

public sealed class SafeTensorsFileTests : IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly float[] Floats = [1.5f, -2.25f, 0f, 3.0e-7f, float.MaxValue, -1f];
    private static readonly double[] Doubles = [Math.PI, -Math.E, 1e-300, 0, 42];
    private static readonly long[] Longs = [0, -1, long.MaxValue, 7];

    private string WriteSample(string name = "sample.safetensors")
    {
        var path = _temp.File(name);
        using var images = torch.tensor(Floats, [2, 3]);
        using var moments = torch.tensor(Doubles, [5]);
        using var labels = torch.tensor(Longs, [2, 1, 2]);
        SafeTensorsFile.Write(path,
            new Dictionary<string, Tensor> { ["images"] = images, ["moments"] = moments, ["a_labels"] = labels },
            new Dictionary<string, string> { ["step"] = "300", ["note"] = "héllo \"quoted\"" });
        return path;
    }

    [Fact]
    public void Round_trips_tensors_with_their_dtype_shape_values_and_metadata()
    {
        var path = WriteSample();

        var contents = SafeTensorsFile.Read(path);

        contents.Tensors.Keys.Should().BeEquivalentTo("images", "moments", "a_labels");
        var images = contents.Tensors["images"];
        images.dtype.Should().Be(ScalarType.Float32);
        images.shape.Should().Equal(2, 3);
        images.data<float>().ToArray().Should().Equal(Floats);
        var moments = contents.Tensors["moments"];
        moments.dtype.Should().Be(ScalarType.Float64);
        moments.shape.Should().Equal(5);
        moments.data<double>().ToArray().Should().Equal(Doubles);
        var labels = contents.Tensors["a_labels"];
        labels.dtype.Should().Be(ScalarType.Int64);
        labels.shape.Should().Equal(2, 1, 2);
        labels.data<long>().ToArray().Should().Equal(Longs);
        contents.Metadata["step"].Should().Be("300");
        contents.Metadata["note"].Should().Be("héllo \"quoted\"");
        foreach (var tensor in contents.Tensors.Values) tensor.Dispose();
        File.Exists(path + ".tmp").Should().BeFalse("the temporary file is renamed into place");
    }

    [Fact]
    public void Non_contiguous_and_scalar_tensors_are_written_in_logical_order()
    {
        var path = _temp.File("t.safetensors");
        using var matrix = torch.arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var transposed = matrix.t();
        using var scalar = torch.tensor(2.5);
        SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["t"] = transposed, ["s"] = scalar });

        var contents = SafeTensorsFile.Read(path);

        contents.Tensors["t"].shape.Should().Equal(3, 2);
        contents.Tensors["t"].data<float>().ToArray().Should().Equal(0f, 3f, 1f, 4f, 2f, 5f);
        contents.Tensors["s"].shape.Should().BeEmpty();
        contents.Tensors["s"].item<double>().Should().Be(2.5);
    }

    /// <summary>
    /// Parses the bytes the way Python's safetensors does (and checks what it requires), without using
    /// <see cref="SafeTensorsFile.Read"/>.
    /// </summary>
    [Fact]
    public void The_bytes_follow_the_safetensors_format()
    {
        var bytes = File.ReadAllBytes(WriteSample());

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(0, 8));
        headerLength.Should().BeLessThan((ulong)bytes.Length);
        var dataStart = 8 + (int)headerLength;
        (dataStart % 8).Should().Be(0, "the data starts 8-byte aligned");
        var headerText = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);
        headerText.Should().StartWith("{");
        headerText.TrimEnd(' ').Should().EndWith("}", "only spaces may pad the header");
        using var header = JsonDocument.Parse(headerText);

        var sizes = new Dictionary<string, int> { ["F32"] = 4, ["F64"] = 8, ["I64"] = 8 };
        var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End)>();
        foreach (var property in header.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                property.Value.ValueKind.Should().Be(JsonValueKind.Object);
                foreach (var meta in property.Value.EnumerateObject())
                    meta.Value.ValueKind.Should().Be(JsonValueKind.String, $"metadata value '{meta.Name}' must be a string");
                continue;
            }
            property.Value.EnumerateObject().Select(p => p.Name).Should().BeEquivalentTo("dtype", "shape", "data_offsets");
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            offsets.Should().HaveCount(2);
            entries.Add((property.Name, property.Value.GetProperty("dtype").GetString()!,
                property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), offsets[0], offsets[1]));
        }

        entries.Select(e => e.Name).Should().BeEquivalentTo("images", "moments", "a_labels");
        var dataLength = bytes.Length - dataStart;
        long expectedBegin = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin))
        {
            entry.Begin.Should().Be(expectedBegin, $"tensor '{entry.Name}' must follow the previous one with no gap");
            sizes.Should().ContainKey(entry.DType);
            (entry.End - entry.Begin).Should().Be(entry.Shape.Aggregate(1L, (a, b) => a * b) * sizes[entry.DType]);
            expectedBegin = entry.End;
        }
        expectedBegin.Should().Be(dataLength, "the tensors cover the whole data buffer");

        var images = entries.Single(e => e.Name == "images");
        images.DType.Should().Be("F32");
        images.Shape.Should().Equal(2, 3);
        Enumerable.Range(0, Floats.Length)
            .Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + (int)images.Begin + 4 * i, 4)))
            .Should().Equal(Floats);
        var labels = entries.Single(e => e.Name == "a_labels");
        labels.DType.Should().Be("I64");
        Enumerable.Range(0, Longs.Length)
            .Select(i => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(dataStart + (int)labels.Begin + 8 * i, 8)))
            .Should().Equal(Longs);
        var moments = entries.Single(e => e.Name == "moments");
        moments.DType.Should().Be("F64");
        BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(dataStart + (int)moments.Begin, 8)).Should().Be(Math.PI);

        var metadata = header.RootElement.GetProperty("__metadata__");
        metadata.GetProperty("step").GetString().Should().Be("300");
        metadata.GetProperty("sha256").GetString().Should().MatchRegex("^[0-9A-Fa-f]{64}$");
    }

    [Fact]
    public void A_flipped_data_byte_is_detected_by_the_checksum()
    {
        var path = WriteSample();
        var bytes = File.ReadAllBytes(path);
        bytes[^3] ^= 0x10;
        File.WriteAllBytes(path, bytes);

        var act = () => SafeTensorsFile.Read(path);

        act.Should().Throw<InvalidDataException>().Which.Message.Should().Contain("checksum");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(40)]
    [InlineData(-1)]
    [InlineData(-9)]
    public void A_truncated_file_is_invalid_data(int keep)
    {
        var path = WriteSample();
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(keep >= 0 ? keep : bytes.Length + keep)]);

        var act = () => SafeTensorsFile.Read(path);

        act.Should().Throw<InvalidDataException>();
    }

    public static TheoryData<string> DamagedHeaders => new()
    {
        "not json",
        "[1, 2]",
        "null",
        """{ "x": { "dtype": "F32", "shape": [2], "data_offsets": [0, 8, 9] }, "y": 3 }""",
        """{ "x": { "dtype": 5, "shape": [2], "data_offsets": [0, 8] } }""",
        """{ "x": { "dtype": "F32", "data_offsets": [0, 8] } }""",
        """{ "x": { "dtype": "F32", "shape": [3], "data_offsets": [0, 8] } }""",
        """{ "x": { "dtype": "F32", "shape": [2], "data_offsets": [0, 6] } }""",
        """{ "x": { "dtype": "F32", "shape": [2], "data_offsets": [0] } }""",
        """{ "x": { "dtype": "F32", "shape": ["two"], "data_offsets": [0, 8] } }""",
        """{ "x": { "dtype": "F32", "shape": [2], "data_offsets": [0, 8] }, "__metadata__": { "step": 3 } }""",
        """{ "x": { "dtype": "Q4", "shape": [2], "data_offsets": [0, 8] } }""",
        """{ "x": { "dtype": "F32", "shape": [-2, -1], "data_offsets": [0, 8] } }""",
        """{ "x": { "dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8] } }""",
        """{ "x": { "dtype": "F32", "shape": [2], "data_offsets": [8, 0] } }""",
        """{ "x": { "dtype": "F32", "shape": [2], "data_offsets": [0, 8] }, "x": { "dtype": "F32", "shape": [2], "data_offsets": [0, 8] } }""",
    };

    [Theory]
    [MemberData(nameof(DamagedHeaders))]
    public void A_damaged_header_is_invalid_data(string headerText)
    {
        var path = _temp.File("damaged.safetensors");
        var header = Encoding.UTF8.GetBytes(headerText);
        var bytes = new byte[8 + header.Length + 8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);

        var act = () => SafeTensorsFile.Read(path);

        act.Should().Throw<InvalidDataException>();
    }

    [Fact]
    public void Every_single_byte_corruption_is_detected_or_harmless()
    {
        var path = WriteSample();
        var original = File.ReadAllBytes(path);
        var reference = SafeTensorsFile.Read(path);
        for (var i = 0; i < original.Length; i++)
        {
            var bytes = (byte[])original.Clone();
            bytes[i] ^= 0x04;
            File.WriteAllBytes(path, bytes);
            SafeTensorsFile.Contents contents;
            try
            {
                contents = SafeTensorsFile.Read(path);
            }
            catch (InvalidDataException)
            {
                continue; // detected
            }
            {
                // A change the reader accepts must not have changed any data: the same number of tensors, and each
                // one that kept its name (a flip in a name is not covered by the data checksum) is identical.
                contents.Tensors.Should().HaveCount(reference.Tensors.Count, $"byte {i} was flipped");
                foreach (var (name, tensor) in reference.Tensors)
                {
                    if (!contents.Tensors.TryGetValue(name, out var read)) continue;
                    read.dtype.Should().Be(tensor.dtype, $"byte {i} was flipped");
                    read.shape.Should().Equal(tensor.shape, $"byte {i} was flipped");
                    read.eq(tensor).all().item<bool>().Should().BeTrue($"byte {i} was flipped");
                }
                foreach (var tensor in contents.Tensors.Values) tensor.Dispose();
            }
        }
    }
}
