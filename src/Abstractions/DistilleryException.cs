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
