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

/// <summary>
/// One of a plugin's own options has a value the plugin cannot use — found while it creates, loads, checks, fits,
/// distils or evaluates, where its options class's attributes and <see cref="Plugins.IValidatableOptions"/> could not
/// see it (e.g. a network depth that pools a 28×28 image to nothing). The plugin names the option and the problem and
/// never a manifest path: it cannot know whether it was configured as <c>evaluation[0]</c> or <c>evaluation[1]</c>. The
/// host, which does, reports <c>&lt;section path&gt;.options.&lt;option&gt;: &lt;message&gt;</c>
/// (<c>evaluation[1].options.depth: 5 pooling blocks shrink the 28×28 image to nothing; use fewer</c>) as one
/// <c>error:</c> line and exits with "invalid input" (2), as for any <see cref="DistilleryException"/>.
/// </summary>
/// <param name="option">
/// The option as its options class declares it: the manifest name (<c>depth</c>) or the property name (<c>Depth</c>);
/// the host writes it in camelCase, as <see cref="Plugins.IValidatableOptions.Validate"/>'s option names are.
/// </param>
/// <param name="message">What is wrong with the value and what to change, without the option's name or path.</param>
public sealed class OptionException(string option, string message)
    : DistilleryException($"options.{Manifests.ManifestPaths.OptionName(option)}: {message}")
{
    /// <summary>The option at fault, as the plugin named it (see the constructor).</summary>
    public string Option { get; } = option;

    /// <summary>The problem and the advice, without the option's name; <see cref="Exception.Message"/> prefixes <c>options.&lt;option&gt;</c>.</summary>
    public string Problem { get; } = message;
}
