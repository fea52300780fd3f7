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

/// <summary>
/// A run produced numbers it cannot use: a non-finite support set, kernel matrix, prediction or figure, or a linear
/// system too singular to solve in its dtype. Not an input error: the run started and failed, so the host prints the
/// message as one <c>error:</c> line (it names the phase or step, what failed and what to change), keeps the stack
/// trace for run.log, writes no figure and exits with "run failed" (3).
/// </summary>
public sealed class NumericalFailureException(string message) : Exception(message);
