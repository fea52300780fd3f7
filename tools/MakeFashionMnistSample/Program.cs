// Makes the class-balanced Fashion-MNIST sample embedded in plugins/Datasets/EmbeddedData:
// the first 500 training and the first 100 test images of each class, in file order (so the choice is
// reproducible and the classes stay interleaved as in the original), written as gzip IDX files.
//
//   dotnet run --project tools/MakeFashionMnistSample -- [source-folder] [output-folder]
//
// Defaults: /usr/share/datasets/fashion-mnist (apt package dataset-fashion-mnist) and
// plugins/Datasets/EmbeddedData relative to the working directory.
using System.Buffers.Binary;
using System.IO.Compression;

var source = args.Length > 0 ? args[0] : "/usr/share/datasets/fashion-mnist";
var output = args.Length > 1 ? args[1] : Path.Combine("plugins", "Datasets", "EmbeddedData");
Directory.CreateDirectory(output);

WriteSplit("train", 500);
WriteSplit("t10k", 100);
return 0;

void WriteSplit(string split, int perClass)
{
    var (imageDims, images) = ReadIdx(Path.Combine(source, $"{split}-images-idx3-ubyte.gz"), 0x803);
    var (labelDims, labels) = ReadIdx(Path.Combine(source, $"{split}-labels-idx1-ubyte.gz"), 0x801);
    if (imageDims[0] != labelDims[0]) throw new InvalidDataException($"{split}: {imageDims[0]} images but {labelDims[0]} labels");

    var pixels = imageDims[1] * imageDims[2];
    var taken = new int[10];
    var chosen = new List<int>();
    for (var i = 0; i < labels.Length; i++)
        if (taken[labels[i]] < perClass) { taken[labels[i]]++; chosen.Add(i); }
    if (taken.Any(t => t < perClass)) throw new InvalidDataException($"{split}: some class has fewer than {perClass} images");

    var sampleImages = new byte[chosen.Count * pixels];
    var sampleLabels = new byte[chosen.Count];
    for (var k = 0; k < chosen.Count; k++)
    {
        Array.Copy(images, (long)chosen[k] * pixels, sampleImages, (long)k * pixels, pixels);
        sampleLabels[k] = labels[chosen[k]];
    }
    WriteIdx(Path.Combine(output, $"{split}-images-idx3-ubyte.gz"), 0x803, [chosen.Count, imageDims[1], imageDims[2]], sampleImages);
    WriteIdx(Path.Combine(output, $"{split}-labels-idx1-ubyte.gz"), 0x801, [chosen.Count], sampleLabels);
    Console.WriteLine($"{split}: {chosen.Count} images ({perClass} per class) written to {output}");
}

static (int[] Dims, byte[] Data) ReadIdx(string path, int magic)
{
    using var file = File.OpenRead(path);
    using var gzip = new GZipStream(file, CompressionMode.Decompress);
    using var all = new MemoryStream();
    gzip.CopyTo(all);
    var bytes = all.ToArray();
    if (BinaryPrimitives.ReadInt32BigEndian(bytes) != magic) throw new InvalidDataException($"{path}: wrong magic number");
    var dims = new int[magic & 0xFF];
    for (var d = 0; d < dims.Length; d++) dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
    var header = 4 + 4 * dims.Length;
    var size = dims.Aggregate(1L, (p, d) => p * d);
    if (bytes.Length != header + size) throw new InvalidDataException($"{path}: {bytes.Length - header} data bytes, header says {size}");
    return (dims, bytes[header..]);
}

static void WriteIdx(string path, int magic, int[] dims, byte[] data)
{
    using var file = File.Create(path);
    using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
    Span<byte> word = stackalloc byte[4];
    BinaryPrimitives.WriteInt32BigEndian(word, magic);
    gzip.Write(word);
    foreach (var d in dims) { BinaryPrimitives.WriteInt32BigEndian(word, d); gzip.Write(word); }
    gzip.Write(data);
}
