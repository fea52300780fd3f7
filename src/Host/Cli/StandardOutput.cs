using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Distillery.Host.Cli;

/// <summary>
/// Standard output that reports a failed write (a full disk, as <c>&gt; /dev/full</c>; a device error) as a
/// <see cref="StandardOutputException"/>, so the host can end with one <c>error:</c> line and exit code 2 instead of an
/// unhandled <see cref="IOException"/> and its stack trace. A closed pipe (<c>| head</c>) is not an error: .NET drops
/// writes to it silently.
/// </summary>
/// <param name="inner">The process's standard output writer; not disposed here (the process owns it).</param>
public sealed class StandardOutput(TextWriter inner) : TextWriter
{
    /// <inheritdoc/>
    public override Encoding Encoding => inner.Encoding;

    /// <inheritdoc/>
    public override IFormatProvider FormatProvider => inner.FormatProvider;

    /// <inheritdoc/>
    [AllowNull]
    public override string NewLine { get => inner.NewLine; set => inner.NewLine = value; }

    /// <inheritdoc/>
    public override void Write(char value) => Guard(() => inner.Write(value));

    /// <inheritdoc/>
    public override void Write(char[] buffer, int index, int count) => Guard(() => inner.Write(buffer, index, count));

    /// <inheritdoc/>
    public override void Write(string? value) => Guard(() => inner.Write(value));

    /// <inheritdoc/>
    public override void WriteLine(string? value) => Guard(() => inner.WriteLine(value));

    /// <inheritdoc/>
    public override void Flush() => Guard(inner.Flush);

    private static void Guard(Action write)
    {
        try { write(); }
        catch (IOException error) when (error is not StandardOutputException)
        {
            throw new StandardOutputException(error);
        }
    }
}

/// <summary>A write to standard output failed; its message names the system's reason (e.g. "No space left on device").</summary>
/// <param name="inner">The <see cref="IOException"/> the write threw.</param>
public sealed class StandardOutputException(IOException inner)
    : IOException($"cannot write to standard output: {inner.Message}; write it to a file or device with free space (or use the command's --output, where it has one)", inner);
