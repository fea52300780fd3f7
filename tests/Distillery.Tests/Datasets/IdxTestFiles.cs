using System.Buffers.Binary;
using System.IO.Compression;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;

namespace Distillery.Tests.Datasets;

/// <summary>Writes small files in the real IDX format (raw or gzip) for the dataset tests.</summary>
internal static class IdxTestFiles
{
    /// <summary>The IDX bytes of an array: big-endian magic, big-endian dimensions, then the data.</summary>
    public static byte[] Encode(int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] raw)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(raw);
        return buffer.ToArray();
    }

    public static byte[] Images(int count, int rows, int cols, byte[] pixels) => Encode(0x803, [count, rows, cols], pixels);
    public static byte[] Labels(byte[] labels) => Encode(0x801, [labels.Length], labels);

    /// <summary>Deterministic pixels: image i, pixel p has value (7·i + p) mod 256.</summary>
    public static byte[] Pixels(int count, int rows, int cols)
    {
        var pixels = new byte[count * rows * cols];
        for (var i = 0; i < count; i++)
            for (var p = 0; p < rows * cols; p++)
                pixels[i * rows * cols + p] = (byte)((7 * i + p) % 256);
        return pixels;
    }

    /// <summary>
    /// Writes a complete MNIST-layout folder: <paramref name="trainCount"/> / <paramref name="testCount"/>
    /// images of 28x28, labels i mod 10.
    /// </summary>
    public static void WriteMnistFolder(string folder, int trainCount, int testCount, bool gzip)
    {
        Directory.CreateDirectory(folder);
        foreach (var (prefix, count) in new[] { ("train", trainCount), ("t10k", testCount) })
        {
            var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
            Write(folder, $"{prefix}-images-idx3-ubyte", Images(count, 28, 28, Pixels(count, 28, 28)), gzip);
            Write(folder, $"{prefix}-labels-idx1-ubyte", Labels(labels), gzip);
        }
    }

    /// <summary>Writes <paramref name="raw"/> as <c>baseName</c>, or gzipped as <c>baseName.gz</c>.</summary>
    public static string Write(string folder, string baseName, byte[] raw, bool gzip)
    {
        var path = Path.Combine(folder, gzip ? baseName + ".gz" : baseName);
        File.WriteAllBytes(path, gzip ? Gzip(raw) : raw);
        return path;
    }

    /// <summary>Same shape and the same values, element for element.</summary>
    public static bool SameValues(torch.Tensor a, torch.Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    public static RunContext Run() => new()
    {
        Device = torch.CPU,
        DType = torch.ScalarType.Float32,
        Seed = 0,
        Logger = NullLogger.Instance,
    };
}

/// <summary>A fresh temporary folder, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("distillery-datasets-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
