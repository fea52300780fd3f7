namespace Distillery.Abstractions;

/// <summary>
/// A problem the user can fix (bad input, missing file, impossible request). The host prints its message as
/// one line, without a stack trace, and exits with the "invalid input" code.
/// </summary>
public class DistilleryException : Exception
{
    public DistilleryException(string message) : base(message) { }
    public DistilleryException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A data file that is missing, truncated or malformed; the message names the file.</summary>
public sealed class DataFormatException(string path, string problem)
    : DistilleryException($"{path}: {problem}")
{
    public string Path { get; } = path;
}
