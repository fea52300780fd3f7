namespace Distillery.Abstractions;

/// <summary>
/// A problem the user can fix (bad input, missing file, impossible request). The host prints its message as
/// one line, without a stack trace, and exits with the "invalid input" code.
/// </summary>
/// <remarks>
/// Throw it from a plugin for input the user must fix, with a message that names the manifest option, file or step and
/// what to change (<c>algorithm.options.imagesPerClass: 600 per class asked for, but the smallest class … has 500 images</c>).
/// Exit code 2.
/// </remarks>
public class DistilleryException : Exception
{
    /// <summary>A problem described by <paramref name="message"/>, printed as one line.</summary>
    /// <param name="message">What is wrong, where, and what to change.</param>
    public DistilleryException(string message) : base(message) { }

    /// <summary>A problem described by <paramref name="message"/>, caused by <paramref name="inner"/> (kept for <c>run.log</c>, not printed).</summary>
    /// <param name="message">What is wrong, where, and what to change.</param>
    /// <param name="inner">The exception that revealed it (e.g. an <see cref="IOException"/>).</param>
    public DistilleryException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A data file that is missing, truncated or malformed; the message names the file.</summary>
/// <param name="path">The file, as the user named it or as found under the dataset folder.</param>
/// <param name="problem">What is wrong with it, e.g. <c>truncated: 7,840,016 bytes expected, 1,024 found</c>; the message is <c>path: problem</c>.</param>
public sealed class DataFormatException(string path, string problem)
    : DistilleryException($"{path}: {problem}")
{
    /// <summary>The file the problem is in.</summary>
    public string Path { get; } = path;
}

/// <summary>
/// A run produced numbers it cannot use: a non-finite support set, kernel matrix, prediction or figure, or a linear
/// system too singular to solve in its dtype. Not an input error: the run started and failed, so the host prints the
/// message as one <c>error:</c> line (it names the phase or step, what failed and what to change), keeps the stack
/// trace for run.log, writes no figure and exits with "run failed" (3).
/// </summary>
/// <param name="message">Where (phase or step), what became non-finite or singular, and what to change (learning rate,
/// regularization, <c>"dtype": "float64"</c>).</param>
public sealed class NumericalFailureException(string message) : Exception(message);
