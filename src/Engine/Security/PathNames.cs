using Distillery.Abstractions;

namespace Distillery.Engine.Security;

/// <summary>
/// The one check for names that become a single folder or file name: experiment names (<c>runs/&lt;name&gt;</c>,
/// <c>task</c>'s <c>--results/&lt;name&gt;</c>), sweep point names and queue item ids. Such a name comes from
/// untrusted text (a manifest, a file dropped into a queue), so it must not climb out of, or point beside, the folder
/// it is joined to: no path separator, not <c>.</c> or <c>..</c>, no control character, not empty, at most
/// <see cref="MaxLength"/> characters (most file systems' limit for one name is 255 bytes).
/// </summary>
public static class PathNames
{
    /// <summary>The longest name accepted, in UTF-16 characters; a file system's limit is 255 bytes per name.</summary>
    public const int MaxLength = 200;

    /// <summary>Why <paramref name="name"/> cannot be used as one folder or file name, or null when it can.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0) return "is empty";
        if (name.Length > MaxLength) return $"is {name.Length} characters long; at most {MaxLength} are allowed";
        if (name is "." or "..") return "is a relative folder reference ('.' or '..')";
        if (name.IndexOfAny(['/', '\\']) >= 0) return "contains a path separator ('/' or '\\')";
        if (name.Any(char.IsControl)) return "contains a control character (e.g. a newline or tab)";
        return null;
    }

    /// <summary>
    /// Returns <paramref name="name"/> when it is a valid single name; else throws a <see cref="DistilleryException"/>
    /// "<paramref name="what"/>: … is not usable as a folder name: &lt;problem&gt;". The name is quoted with its
    /// control characters escaped, so it cannot break the error line or a log.
    /// </summary>
    public static string Require(string name, string what) =>
        Check(name, what) is { } message ? throw new DistilleryException(message) : name;

    /// <summary>The error message <see cref="Require"/> would throw, or null when the name is valid.</summary>
    public static string? Check(string name, string what) =>
        Problem(name) is { } problem
            ? $"{what}: {Quote(name)} is not usable as a folder name: it {problem}; use letters, digits, '-', '_' or '.'"
            : null;

    /// <summary>A name for messages and logs: quoted, at most 80 characters, control characters shown as \uXXXX.</summary>
    public static string Quote(string name) => "\"" + Printable(name.Length > 80 ? name[..80] + "…" : name) + "\"";

    /// <summary>
    /// Text from untrusted names for a terminal or a one-line log: control characters (newlines, ESC sequences that
    /// would drive the terminal) shown as \uXXXX.
    /// </summary>
    public static string Printable(string text) =>
        text.Any(char.IsControl) ? string.Concat(text.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString())) : text;
}
