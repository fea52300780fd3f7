using Distillery.Engine.Security;
using Mono.Unix;

namespace Distillery.Service;

/// <summary>
/// The screen every claimed queue item passes before anything reads it. Whoever can write inbox/ is not trusted
/// with the service's account: a symbolic link would make the service read (and echo) a file its author cannot read,
/// a FIFO or device would block or feed the reader for ever, and a name with control characters would break logs and
/// reason files. The check runs on the entry after its atomic rename into running/, with lstat, so it never follows
/// a link and the entry cannot be swapped between the check and the run.
/// </summary>
public static class InboxEntry
{
    /// <summary>Why the entry at <paramref name="path"/> must not be run, in one line, or null when it is a regular file with a usable name.</summary>
    public static string? Refusal(string path)
    {
        var name = Path.GetFileName(path);
        if (PathNames.Problem(QueueFolders.IdOf(path)) is { } problem)
            return $"queue item {PathNames.Quote(name)}: its name {problem}; rename the manifest (letters, digits, '-', '_', '.')";
        UnixFileSystemInfo entry;
        try
        {
            entry = UnixFileSystemInfo.GetFileSystemEntry(path); // lstat: describes a link itself, never its target
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            return $"queue item {PathNames.Quote(name)}: cannot be inspected ({e.GetType().Name})";
        }
        if (entry.IsSymbolicLink)
            return $"queue item {PathNames.Quote(name)} is a symbolic link; the service runs only regular files written into inbox/ and never follows links";
        if (!entry.IsRegularFile)
            return $"queue item {PathNames.Quote(name)} is a {Describe(entry.FileType)}, not a regular file; write the manifest to a file and mv it into inbox/";
        return null;
    }

    private static string Describe(FileTypes type) => type switch
    {
        FileTypes.Directory => "folder",
        FileTypes.Fifo => "named pipe (FIFO)",
        FileTypes.Socket => "socket",
        FileTypes.CharacterDevice or FileTypes.BlockDevice => "device",
        _ => "special file",
    };
}
