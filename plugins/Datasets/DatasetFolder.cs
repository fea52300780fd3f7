using Distillery.Abstractions;

namespace Distillery.Datasets;

/// <summary>
/// A dataset's <c>path</c> option, checked before any file in it is opened: given, and an existing folder. Its errors
/// are <see cref="OptionException"/>s, so the host names the manifest field (<c>dataset.options.path: …</c>).
/// </summary>
internal static class DatasetFolder
{
    /// <summary>The full path of <paramref name="path"/>, an existing folder (a relative one is read from the current directory).</summary>
    /// <param name="dataset">The dataset's manifest name, for the message when no path is given.</param>
    /// <param name="holds">What the folder should hold, e.g. "train-images-idx3-ubyte, …".</param>
    /// <exception cref="OptionException">Option <c>Path</c>: not given, not found, or a file rather than a folder.</exception>
    public static string Require(string? path, string dataset, string holds)
    {
        if (string.IsNullOrWhiteSpace(path))
            throw new OptionException("Path", $"dataset '{dataset}' needs the folder holding {holds}");
        var full = Path.GetFullPath(path);
        // A relative path depends on where distillery was started, not on the manifest's folder: say which was used.
        var relative = Path.IsPathRooted(path) ? "" : $"; a relative path is read from the current directory, {Environment.CurrentDirectory}";
        if (File.Exists(full))
            throw new OptionException("Path", $"{full} is a file; give the folder that holds {holds}");
        if (!Directory.Exists(full))
            throw new OptionException("Path", $"{full}: dataset folder not found (it should hold {holds}{relative})");
        return full;
    }
}
