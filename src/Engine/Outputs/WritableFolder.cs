using Distillery.Abstractions;

namespace Distillery.Engine.Outputs;

/// <summary>
/// Makes sure a folder the host will write into exists and takes files, before any work starts: a path that is a
/// file, that lies under a file, or that this account may not write is one clear <see cref="DistilleryException"/>
/// naming the option it came from, instead of an I/O exception halfway through a run.
/// </summary>
public static class WritableFolder
{
    /// <summary>Creates <paramref name="path"/> if needed and checks that a file can be written in it.</summary>
    /// <param name="what">Where the path came from, for the message: "--output", "--results", "--queue", "run folder".</param>
    /// <returns>The full path.</returns>
    public static string Ensure(string path, string what)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full)) throw new DistilleryException($"{what}: {full} is a file, not a folder; choose a folder (or remove the file)");
        try
        {
            Directory.CreateDirectory(full);
            // Creating the folder is not enough: it may already exist, read-only or owned by someone else.
            var probe = Path.Combine(full, $".write-check-{Environment.ProcessId}-{Guid.NewGuid():N}");
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
            return full;
        }
        catch (UnauthorizedAccessException)
        {
            throw new DistilleryException($"{what}: {full} is not writable by this account (permission denied); choose a folder you can write, or fix its permissions");
        }
        catch (IOException e)
        {
            var fileAbove = Ancestors(full).FirstOrDefault(File.Exists);
            throw new DistilleryException(fileAbove is not null
                ? $"{what}: {full} cannot be created: {fileAbove} is a file, not a folder"
                : $"{what}: {full} cannot be created or written: {e.Message}");
        }
    }

    private static IEnumerable<string> Ancestors(string path)
    {
        for (var parent = Path.GetDirectoryName(path); parent is not null; parent = Path.GetDirectoryName(parent)) yield return parent;
    }
}
