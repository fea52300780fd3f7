using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Host.Outputs;

/// <summary>
/// The safetensors format (what Python's <c>safetensors</c> package reads): an 8-byte little-endian header
/// length, a JSON header giving each tensor's dtype, shape and byte range, then the raw little-endian data.
/// Files are written atomically (temporary file, flush to disk, rename) with a SHA-256 of the data in the
/// header metadata, so a torn or corrupted file is detected on reading.
/// </summary>
public static class SafeTensorsFile
{
    private const string ChecksumKey = "sha256";

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var (name, tensor) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            var bytes = ToBytes(tensor);
            header[name] = new JsonObject
            {
                ["dtype"] = DTypeName(tensor.dtype),
                ["shape"] = new JsonArray(tensor.shape.Select(d => (JsonNode)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }

        var meta = new JsonObject();
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>()) meta[key] = value;
        meta[ChecksumKey] = Convert.ToHexString(Checksum(blobs));
        header["__metadata__"] = meta;

        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (headerBytes.Length + 7) / 8 * 8; // the format asks for 8-byte alignment of the data
        var temporary = path + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var blob in blobs) stream.Write(blob);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public sealed record Contents(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>Reads a file written by any safetensors writer; throws <see cref="InvalidDataException"/> when it is damaged.</summary>
    public static Contents Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException("shorter than the 8-byte header length");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"header length {headerLength} exceeds the file size {bytes.Length}");
        JsonObject header;
        try { header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject(); }
        catch (JsonException e) { throw new InvalidDataException("header is not valid JSON: " + e.Message); }
        var dataStart = 8 + (int)headerLength;

        var metadata = new Dictionary<string, string>();
        if (header["__metadata__"] is JsonObject meta)
            foreach (var (key, value) in meta) metadata[key] = value?.GetValue<string>() ?? "";

        var tensors = new Dictionary<string, Tensor>();
        var blobs = new List<byte[]>();
        foreach (var (name, node) in header.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (name == "__metadata__") continue;
            var dtype = node!["dtype"]!.GetValue<string>();
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var begin = node["data_offsets"]![0]!.GetValue<long>();
            var end = node["data_offsets"]![1]!.GetValue<long>();
            if (begin < 0 || end < begin || dataStart + end > bytes.Length)
                throw new InvalidDataException($"tensor '{name}' lies outside the file (truncated?)");
            var blob = bytes.AsSpan(dataStart + (int)begin, (int)(end - begin)).ToArray();
            blobs.Add(blob);
            tensors[name] = FromBytes(blob, dtype, shape);
        }

        if (metadata.TryGetValue(ChecksumKey, out var expected) && expected != Convert.ToHexString(Checksum(blobs)))
            throw new InvalidDataException("checksum mismatch: the data was changed or torn after it was written");
        return new Contents(tensors, metadata);
    }

    private static byte[] Checksum(IEnumerable<byte[]> blobs)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var blob in blobs) hash.AppendData(blob);
        return hash.GetHashAndReset();
    }

    private static string DTypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors output of {type} tensors"),
    };

    private static byte[] ToBytes(Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous();
        return cpu.dtype switch
        {
            ScalarType.Float32 => MemoryMarshal.AsBytes(cpu.data<float>().ToArray().AsSpan()).ToArray(),
            ScalarType.Float64 => MemoryMarshal.AsBytes(cpu.data<double>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int64 => MemoryMarshal.AsBytes(cpu.data<long>().ToArray().AsSpan()).ToArray(),
            ScalarType.Int32 => MemoryMarshal.AsBytes(cpu.data<int>().ToArray().AsSpan()).ToArray(),
            ScalarType.Byte => cpu.data<byte>().ToArray(),
            ScalarType.Bool => cpu.data<bool>().ToArray().Select(b => b ? (byte)1 : (byte)0).ToArray(),
            _ => throw new NotSupportedException($"safetensors output of {cpu.dtype} tensors"),
        };
    }

    private static Tensor FromBytes(byte[] blob, string dtype, long[] shape) => dtype switch
    {
        "F32" => torch.tensor(MemoryMarshal.Cast<byte, float>(blob).ToArray(), shape),
        "F64" => torch.tensor(MemoryMarshal.Cast<byte, double>(blob).ToArray(), shape),
        "I64" => torch.tensor(MemoryMarshal.Cast<byte, long>(blob).ToArray(), shape),
        "I32" => torch.tensor(MemoryMarshal.Cast<byte, int>(blob).ToArray(), shape),
        "U8" => torch.tensor(blob, shape),
        "BOOL" => torch.tensor(blob.Select(b => b != 0).ToArray(), shape),
        _ => throw new InvalidDataException($"unsupported dtype '{dtype}'"),
    };
}
