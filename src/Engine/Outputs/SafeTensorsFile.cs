using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Engine.Outputs;

/// <summary>
/// The safetensors format (what Python's <c>safetensors</c> package reads): an 8-byte little-endian header
/// length, a JSON header giving each tensor's dtype, shape and byte range, then the raw little-endian data.
/// Files are written atomically (temporary file, flush to disk, rename) with a SHA-256 of the names, shapes,
/// metadata and data in the header metadata, so a torn or corrupted file is detected on reading.
/// </summary>
public static class SafeTensorsFile
{
    private const string ChecksumKey = "sha256";

    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        var entries = new List<(string Name, string DType, long[] Shape, byte[] Blob)>();
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
            entries.Add((name, DTypeName(tensor.dtype), tensor.shape, bytes));
            offset += bytes.Length;
        }

        var meta = new JsonObject();
        metadata ??= new Dictionary<string, string>();
        foreach (var (key, value) in metadata) meta[key] = value;
        meta[ChecksumKey] = Checksum(entries, metadata);
        header["__metadata__"] = meta;

        var headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (headerBytes.Length + 7) / 8 * 8; // the format asks for 8-byte alignment of the data
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(headerBytes);
            for (var i = headerBytes.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var entry in entries) stream.Write(entry.Blob);
        });
    }

    public sealed record Contents(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata);

    /// <summary>Reads a file written by any safetensors writer; throws <see cref="InvalidDataException"/> when it is damaged.</summary>
    /// <param name="requireChecksum">
    /// True for files only this host writes (checkpoints): one without the checksum entry cannot be verified and
    /// counts as damaged. Files from other writers have none, so it is optional by default.
    /// </param>
    public static Contents Read(string path, bool requireChecksum = false)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException("shorter than the 8-byte header length");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"header length {headerLength} exceeds the file size {bytes.Length}");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject
                ?? throw new InvalidDataException("header is not a JSON object");
        }
        catch (JsonException e) { throw new InvalidDataException("header is not valid JSON: " + e.Message); }
        var dataStart = 8 + (int)headerLength;

        var metadata = new Dictionary<string, string>();
        if (header["__metadata__"] is JsonObject meta)
            foreach (var (key, value) in meta)
                metadata[key] = value is null ? "" : value is JsonValue text && text.TryGetValue<string>(out var s) ? s
                    : throw new InvalidDataException($"metadata '{key}' is not a string");

        // Check every entry before creating any tensor, so a damaged file fails with InvalidDataException and leaks nothing.
        var entries = new List<(string Name, string DType, long[] Shape, byte[] Blob)>();
        foreach (var (name, node) in header.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            if (name == "__metadata__") continue;
            var (dtype, shape, begin, end) = ReadEntry(name, node);
            if (begin < 0 || end < begin || dataStart + end > bytes.Length)
                throw new InvalidDataException($"tensor '{name}' lies outside the file (truncated?)");
            if (ByteCount(dtype, shape, limit: end - begin) != end - begin)
                throw new InvalidDataException($"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} does not fit its {end - begin} bytes");
            entries.Add((name, dtype, shape, bytes.AsSpan(dataStart + (int)begin, (int)(end - begin)).ToArray()));
        }

        var hasChecksum = metadata.Remove(ChecksumKey, out var expected);
        if (!hasChecksum && requireChecksum)
            throw new InvalidDataException($"no checksum ('{ChecksumKey}' in its metadata), so it cannot be verified");
        if (hasChecksum && expected != Checksum(entries, metadata))
            throw new InvalidDataException("checksum mismatch: the data was changed or torn after it was written");
        var tensors = entries.ToDictionary(e => e.Name, e => FromBytes(e.Blob, e.DType, e.Shape));
        return new Contents(tensors, metadata);
    }

    private static (string DType, long[] Shape, long Begin, long End) ReadEntry(string name, JsonNode? node)
    {
        if (node is JsonObject entry
            && entry["dtype"] is JsonValue dtypeNode && dtypeNode.TryGetValue<string>(out var dtype)
            && entry["shape"] is JsonArray shapeNode
            && entry["data_offsets"] is JsonArray { Count: 2 } offsets
            && offsets[0] is JsonValue beginNode && beginNode.TryGetValue<long>(out var begin)
            && offsets[1] is JsonValue endNode && endNode.TryGetValue<long>(out var end))
        {
            var shape = new long[shapeNode.Count];
            for (var i = 0; i < shape.Length; i++)
                if (shapeNode[i] is not JsonValue d || !d.TryGetValue(out shape[i]))
                    throw new InvalidDataException($"tensor '{name}': shape is not a list of integers");
            return (dtype, shape, begin, end);
        }
        throw new InvalidDataException($"tensor '{name}': expected {{ \"dtype\": ..., \"shape\": [...], \"data_offsets\": [begin, end] }}");
    }

    /// <summary>Bytes a tensor of this dtype and shape takes, or -1 when that is negative or more than <paramref name="limit"/>.</summary>
    private static long ByteCount(string dtype, long[] shape, long limit)
    {
        var count = ElementSize(dtype);
        foreach (var d in shape)
        {
            if (d < 0 || (d > 0 && count > limit / d)) return -1;
            count *= d;
        }
        return count;
    }

    private static long ElementSize(string dtype) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "U8" or "BOOL" => 1,
        _ => throw new InvalidDataException($"unsupported dtype '{dtype}'"),
    };

    /// <summary>
    /// SHA-256 over every tensor's name, dtype, shape and bytes (in name order) and the other metadata, so that a
    /// changed name, shape, step number or data byte is detected alike.
    /// </summary>
    private static string Checksum(IEnumerable<(string Name, string DType, long[] Shape, byte[] Blob)> entries, IReadOnlyDictionary<string, string> metadata)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => hash.AppendData(Encoding.UTF8.GetBytes(text + "\0"));
        foreach (var (name, dtype, shape, blob) in entries)
        {
            Add($"{name}|{dtype}|{string.Join(',', shape)}|{blob.Length}");
            hash.AppendData(blob);
        }
        foreach (var (key, value) in metadata.Where(m => m.Key != ChecksumKey).OrderBy(m => m.Key, StringComparer.Ordinal))
            Add($"{key}={value}");
        return Convert.ToHexString(hash.GetHashAndReset());
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
