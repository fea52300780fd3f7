using System.Buffers.Binary;
using Google.Protobuf;

namespace Distillery.Tests.EndToEnd;

/// <summary>One summary value of an event: a scalar, an image (PNG bytes) or a text, under a tag.</summary>
internal sealed record TensorBoardValue(string Tag, float? Scalar, byte[]? Png, int ImageWidth, int ImageHeight, string? Text);

/// <summary>One event record: its step, wall time (seconds), file version (first record only) and summary values.</summary>
internal sealed record TensorBoardEvent(long Step, double WallTime, string? FileVersion, IReadOnlyList<TensorBoardValue> Values);

/// <summary>What one event file holds: its intact records, and whether it ends in a torn record (a killed writer).</summary>
internal sealed record TensorBoardEventFile(string Path, IReadOnlyList<TensorBoardEvent> Events, bool TornTail);

/// <summary>
/// An event-file reader written for the tests, independent of the product and of TorchSharp: TFRecord framing
/// (uint64 length, masked CRC-32C of the length, data, masked CRC-32C of the data; both CRCs verified) and the
/// tensorflow Event / Summary protobuf messages decoded field by field with Google.Protobuf's CodedInputStream.
/// Field numbers follow tensorflow/core/util/event.proto and tensorflow/core/framework/summary.proto.
/// </summary>
internal static class TensorBoardEventReader
{
    /// <summary>Reads every record; a CRC mismatch in a complete record throws, a record cut short at the end is reported as a torn tail.</summary>
    public static TensorBoardEventFile Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var events = new List<TensorBoardEvent>();
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (offset + 12 > bytes.Length) return new TensorBoardEventFile(path, events, TornTail: true);
            var lengthBytes = bytes.AsSpan(offset, 8);
            var length = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
            if (MaskedCrc32C(lengthBytes) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 8)))
                throw new InvalidDataException($"{path}: bad length CRC at byte {offset}");
            if ((ulong)(bytes.Length - offset - 12) < length + 4) return new TensorBoardEventFile(path, events, TornTail: true);
            var data = bytes.AsSpan(offset + 12, (int)length);
            if (MaskedCrc32C(data) != BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 12 + (int)length)))
                throw new InvalidDataException($"{path}: bad data CRC at byte {offset}");
            events.Add(DecodeEvent(data.ToArray()));
            offset += 16 + (int)length;
        }
        return new TensorBoardEventFile(path, events, TornTail: false);
    }

    /// <summary>CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit: slow and obviously right.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>TFRecord's mask: rotate right by 15 bits, add 0xa282ead8.</summary>
    public static uint MaskedCrc32C(ReadOnlySpan<byte> data)
    {
        var crc = Crc32C(data);
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }

    private static TensorBoardEvent DecodeEvent(byte[] data)
    {
        var input = new CodedInputStream(data);
        double wallTime = 0;
        long step = 0;
        string? fileVersion = null;
        var values = new List<TensorBoardValue>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: wallTime = input.ReadDouble(); break;
                case 2: step = input.ReadInt64(); break;
                case 3: fileVersion = input.ReadString(); break;
                case 5: values.AddRange(DecodeSummary(input.ReadBytes())); break; // Summary
                default: input.SkipLastField(); break;
            }
        }
        return new TensorBoardEvent(step, wallTime, fileVersion, values);
    }

    private static IEnumerable<TensorBoardValue> DecodeSummary(ByteString summary)
    {
        var input = summary.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1) yield return DecodeValue(input.ReadBytes()); // repeated Value value = 1
            else input.SkipLastField();
        }
    }

    private static TensorBoardValue DecodeValue(ByteString value)
    {
        var input = value.CreateCodedInput();
        string name = "";
        float? scalar = null;
        byte[]? png = null;
        int width = 0, height = 0;
        string? text = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: name = input.ReadString(); break;          // tag
                case 2: scalar = input.ReadFloat(); break;          // simple_value
                case 4: (png, width, height) = DecodeImage(input.ReadBytes()); break; // image
                case 8: text = DecodeStringTensor(input.ReadBytes()); break;          // tensor (the text plugin's DT_STRING)
                default: input.SkipLastField(); break;
            }
        }
        return new TensorBoardValue(name, scalar, png, width, height, text);
    }

    private static (byte[] Png, int Width, int Height) DecodeImage(ByteString image)
    {
        var input = image.CreateCodedInput();
        int height = 0, width = 0;
        byte[] encoded = [];
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: height = input.ReadInt32(); break;
                case 2: width = input.ReadInt32(); break;
                case 4: encoded = input.ReadBytes().ToByteArray(); break; // encoded_image_string
                default: input.SkipLastField(); break;
            }
        }
        return (encoded, width, height);
    }

    private static string? DecodeStringTensor(ByteString tensor)
    {
        var input = tensor.CreateCodedInput();
        string? text = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 8) text = input.ReadBytes().ToStringUtf8(); // repeated bytes string_val = 8
            else input.SkipLastField();
        }
        return text;
    }
}
