namespace Distillery.Service;

/// <summary>
/// The queue's folders: manifests dropped into <c>inbox/</c> are claimed by an atomic rename into <c>running/</c>,
/// then moved to <c>done/</c> or to <c>failed/</c> (with <c>&lt;id&gt;.reason.txt</c>); each item's run folder is
/// <c>runs/&lt;id&gt;/</c>. All on one file system, so every move is a rename.
/// </summary>
public sealed class QueueFolders(string root)
{
    public static readonly string[] ManifestExtensions = [".json", ".yaml", ".yml"];

    /// <summary>The queue folder, absolute.</summary>
    public string Root { get; } = Path.GetFullPath(root);
    public string Inbox => Path.Combine(Root, "inbox");
    public string Running => Path.Combine(Root, "running");
    public string Done => Path.Combine(Root, "done");
    public string Failed => Path.Combine(Root, "failed");
    public string Runs => Path.Combine(Root, "runs");
    /// <summary>The services' own logs, one per process (<see cref="ServiceLog"/>).</summary>
    public string Logs => Path.Combine(Root, "logs");

    /// <summary>Every sub-folder of the queue.</summary>
    public IReadOnlyList<string> Folders => [Inbox, Running, Done, Failed, Runs, Logs];

    public void Create()
    {
        foreach (var folder in Folders) Directory.CreateDirectory(folder);
    }

    public string RunFolder(string id) => Path.Combine(Runs, id);
    public string ReasonFile(string id) => ReasonFile(Failed, id);

    /// <summary>
    /// The reasons of an item's failed attempts, one block each, beside its manifest: in running/ while it is retried,
    /// then filed with it (failed/, or done/ when a retry succeeded).
    /// </summary>
    public static string ReasonFile(string folder, string id) => Path.Combine(folder, id + ".reason.txt");

    /// <summary>Who holds a claimed item (<see cref="ItemOwner"/>), beside its manifest in running/.</summary>
    public string OwnerFile(string id) => Path.Combine(Running, id + ".owner");

    /// <summary>Held for the few milliseconds of a claim, a takeover or a lease renewal, by one service at a time.</summary>
    public string ClaimLock => Path.Combine(Root, ".claim.lock");

    /// <summary>Each service process writes its own log: never two writers on one file.</summary>
    public string ServiceLog(ProcessIdentity service) => Path.Combine(Logs, $"service-{service.Host}-{service.Pid}.log");

    /// <summary>Manifests waiting in a folder, oldest first. Hidden and temporary files are not items yet.</summary>
    public static IEnumerable<string> Manifests(string folder) =>
        Directory.Exists(folder)
            ? new DirectoryInfo(folder).EnumerateFiles()
                .Where(f => !f.Name.StartsWith('.') && ManifestExtensions.Contains(f.Extension.ToLowerInvariant()))
                .OrderBy(f => f.LastWriteTimeUtc).ThenBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => f.FullName)
            : [];

    public static string IdOf(string manifestPath) => Path.GetFileNameWithoutExtension(manifestPath);
}
