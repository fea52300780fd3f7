using System.Numerics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using TorchSharp.Modules;
using static TorchSharp.torch.utils;

namespace Distillery.Engine.Outputs;

/// <summary>
/// TensorBoard event files in a run folder, written with TorchSharp's <see cref="SummaryWriter"/>: scalars, PNG
/// images and Markdown text, each under a tag and a step. Every attempt at a run (first start, each resume) appends to
/// a fresh event file of its own, and a (tag, step) that an earlier file of the folder already holds is skipped: a
/// resumed run redoes the steps after its checkpoint, which the interrupted attempt may have logged already, and
/// TensorBoard would draw such a step twice. The skipped values are the ones already logged — a resumed run repeats
/// its steps exactly (same seed-derived draws, same optimiser state) — so nothing is lost.
/// </summary>
public sealed class TensorBoardLog
{
    /// <summary>The prefix of event file names (TensorBoard finds files by it).</summary>
    public const string EventFilePrefix = "events.out.tfevents.";

    private readonly SummaryWriter _writer;
    private readonly Dictionary<string, long> _lastStep;

    private TensorBoardLog(SummaryWriter writer, Dictionary<string, long> lastStep) => (_writer, _lastStep) = (writer, lastStep);

    /// <summary>
    /// Reads which steps the folder's event files already hold, then starts a new event file there. Needs libtorch
    /// loaded (TorchSharp's writer computes the records' CRC-32C natively).
    /// </summary>
    public static TensorBoardLog Open(string folder, ILogger logger)
    {
        var lastStep = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder, EventFilePrefix + "*").Order(StringComparer.Ordinal))
            foreach (var (tag, step) in LoggedSteps(file, logger))
                lastStep[tag] = Math.Max(step, lastStep.GetValueOrDefault(tag, long.MinValue));
        return new TensorBoardLog(tensorboard.SummaryWriter(folder), lastStep);
    }

    /// <summary>A scalar (stored as float32, as TensorBoard's scalar summaries are).</summary>
    public void Scalar(string tag, double value, long step)
    {
        if (IsNew(tag, step)) _writer.add_scalar(tag, (float)value, Step(step));
    }

    /// <summary>The PNG file at <paramref name="pngPath"/> as an image (TorchSharp decodes and re-encodes it losslessly).</summary>
    public void Image(string tag, string pngPath, long step)
    {
        if (IsNew(tag, step)) _writer.add_img(tag, pngPath, Step(step));
    }

    /// <summary>Text, shown by TensorBoard's text tab as Markdown, stored under "&lt;tag&gt;/text_summary" (as PyTorch does).</summary>
    public void Text(string tag, string markdown, long step)
    {
        if (IsNew(tag + TextTagSuffix, step)) _writer.add_text(tag, markdown, Step(step));
    }

    /// <summary>What TorchSharp's text summaries append to their tag.</summary>
    public const string TextTagSuffix = "/text_summary";

    /// <summary>Text shown verbatim: every line indented as a Markdown code block, so no content can become markup.</summary>
    public static string CodeBlock(string text) =>
        string.Join("\n", text.ReplaceLineEndings("\n").Split('\n').Select(line => "    " + line));

    private bool IsNew(string tag, long step)
    {
        if (_lastStep.TryGetValue(tag, out var last) && step <= last) return false;
        _lastStep[tag] = step;
        return true;
    }

    /// <summary>TensorBoard's steps are 64-bit, TorchSharp's API takes 32: beyond that, the last representable step.</summary>
    private static int Step(long step) => (int)Math.Clamp(step, 0, int.MaxValue);

    /// <summary>
    /// (tag, step) of every summary value in one event file, in TFRecord framing (length, masked CRC-32C of the length,
    /// data, masked CRC-32C of the data). Reading stops at the first torn or damaged record: a process killed while
    /// writing leaves at most its last record incomplete.
    /// </summary>
    private static List<(string Tag, long Step)> LoggedSteps(string file, ILogger logger)
    {
        var logged = new List<(string, long)>();
        var bytes = File.ReadAllBytes(file);
        var offset = 0;
        while (offset + 12 <= bytes.Length)
        {
            var length = BitConverter.ToUInt64(bytes, offset);
            if (MaskedCrc(bytes.AsSpan(offset, 8)) != BitConverter.ToUInt32(bytes, offset + 8)
                || length > (ulong)(bytes.Length - offset - 16))
                break;
            var data = bytes.AsSpan(offset + 12, (int)length);
            if (MaskedCrc(data) != BitConverter.ToUInt32(bytes, offset + 12 + (int)length)) break;
            offset += 16 + (int)length;
            Tensorboard.Event record;
            // The byte[] overload: TorchSharp's generated messages lack the span-based parsing path.
            try { record = Tensorboard.Event.Parser.ParseFrom(data.ToArray()); }
            catch (InvalidProtocolBufferException) { break; }
            foreach (var value in record.Summary?.Value ?? [])
                logged.Add((value.Tag, record.Step));
        }
        if (offset < bytes.Length)
            logger.LogWarning("{File}: ignoring {Bytes} bytes after the last intact TensorBoard record (a write was interrupted)", file, bytes.Length - offset);
        return logged;
    }

    /// <summary>TFRecord's masked CRC-32C (Castagnoli): the CRC rotated right by 15 bits, plus a constant.</summary>
    private static uint MaskedCrc(ReadOnlySpan<byte> data)
    {
        var crc = ~0u;
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b); // hardware CRC-32C where the CPU has it
        crc = ~crc;
        return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
    }
}
