using Microsoft.Extensions.Logging;

namespace Distillery.Service;

/// <summary>
/// Which service owns which claimed item, for every service working on one queue folder (several processes, or
/// several machines on a shared disk). Each claim writes an owner file (<see cref="ItemOwner"/>) beside the item in
/// running/; the owner renews its lease while the item runs; another service takes an item over only when its owner
/// is gone. Claims, takeovers and renewals each hold the queue's claim lock (<see cref="QueueFolders.ClaimLock"/>,
/// an exclusive advisory lock, released by the kernel if its holder dies) for a few milliseconds, so that two
/// services never decide about one item at once.
/// </summary>
/// <param name="queue">The queue's folders.</param>
/// <param name="instance">This service's instance id, recorded in every owner file it writes.</param>
/// <param name="lease">How long an owner file vouches for its item; renew well within it (<see cref="RenewAsync"/>).</param>
/// <param name="logger">Where claim problems are logged.</param>
public sealed class QueueOwnership(QueueFolders queue, string instance, TimeSpan lease, ILogger logger)
{
    private static readonly TimeSpan LockPatience = TimeSpan.FromSeconds(30);
    private readonly ProcessIdentity _self = ProcessIdentity.Current;
    private readonly HashSet<string> _reportedClaimProblems = [];

    /// <summary>This service's instance id.</summary>
    public string Instance => instance;

    /// <summary>
    /// Claims an inbox manifest: records this service as the owner of a fresh id, then moves the manifest into
    /// running/ under it. Returns the manifest's path in running/, or null when the file is gone (another service
    /// took it) or cannot be moved (logged once per file and reason, then tried again at each poll).
    /// </summary>
    public string? Claim(string inboxPath)
    {
        using var held = HoldLock();
        if (!File.Exists(inboxPath)) return null;
        var baseId = QueueFolders.IdOf(inboxPath);
        var id = baseId;
        for (var n = 2; Taken(id); n++) id = $"{baseId}-{n}";
        var target = Path.Combine(queue.Running, id + Path.GetExtension(inboxPath));
        try
        {
            // The owner first: a manifest in running/ without an owner file is an orphan, free to take over.
            NewOwner().Write(queue.OwnerFile(id));
            File.Move(inboxPath, target, overwrite: false);
            logger.LogInformation("Claimed {Item}", id);
            return target;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(queue.OwnerFile(id));
            if (_reportedClaimProblems.Add(inboxPath + "\n" + e.Message))
                logger.LogError("Cannot claim {File}: {Message}; it stays in inbox/ and is tried again", Path.GetFileName(inboxPath), e.Message);
            return null;
        }
    }

    /// <summary>
    /// Takes over an item in running/ whose owner is gone (<see cref="ItemOwner.IsGone"/>) or missing, recording this
    /// service as its owner. <paramref name="previous"/> is the owner it had (null when none was recorded): its
    /// <see cref="ItemOwner.Filing"/> says whether the run had already ended. False when the item is gone or its
    /// owner lives.
    /// </summary>
    public bool TryTakeOver(string runningPath, out ItemOwner? previous)
    {
        previous = null;
        using var held = HoldLock();
        var id = QueueFolders.IdOf(runningPath);
        if (!File.Exists(runningPath)) return false;
        previous = ItemOwner.Read(queue.OwnerFile(id));
        if (previous is not null && (previous.Instance == instance || !previous.IsGone(_self, DateTime.UtcNow))) return false;
        NewOwner(previous?.Filing).Write(queue.OwnerFile(id));
        logger.LogInformation("Took over {Item} from {Owner}", id, previous is null ? "no recorded owner" : Describe(previous));
        return true;
    }

    /// <summary>
    /// Renews the lease of each item this service holds. Returns those whose owner file now names another owner
    /// (this service's lease had run out and another took the item over) or is gone: this service must stop working
    /// on them.
    /// </summary>
    public IReadOnlyList<string> Renew(IEnumerable<string> ids)
    {
        var lost = new List<string>();
        using var held = HoldLock();
        foreach (var id in ids)
        {
            var owner = ItemOwner.Read(queue.OwnerFile(id));
            if (owner is null || owner.Instance != instance) lost.Add(id);
            else (owner with { LeaseExpiresUtc = DateTime.UtcNow + lease }).Write(queue.OwnerFile(id));
        }
        return lost;
    }

    /// <summary>
    /// Records that the item's run has ended and it waits to be moved into <paramref name="filing"/> (so a service
    /// that takes it over files it rather than running it again), and the last failure to move it. False when this
    /// service no longer owns the item.
    /// </summary>
    public bool MarkFiling(string id, string filing, string? problem)
    {
        using var held = HoldLock();
        if (ItemOwner.Read(queue.OwnerFile(id)) is not { } owner || owner.Instance != instance) return false;
        NewOwner(filing, problem).Write(queue.OwnerFile(id));
        return true;
    }

    /// <summary>Gives the item up (its owner file is deleted) if this service still owns it.</summary>
    public void Release(string id)
    {
        using var held = HoldLock();
        if (ItemOwner.Read(queue.OwnerFile(id)) is { } owner && owner.Instance == instance) File.Delete(queue.OwnerFile(id));
    }

    /// <summary>Deletes owner files whose item has left running/ and whose owner is gone (it died between the two).</summary>
    public void RemoveStaleOwners()
    {
        using var held = HoldLock();
        foreach (var file in Directory.EnumerateFiles(queue.Running, "*.owner"))
        {
            var id = Path.GetFileNameWithoutExtension(file);
            if (QueueFolders.Manifests(queue.Running).Any(m => QueueFolders.IdOf(m) == id)) continue;
            if (ItemOwner.Read(file) is not { } owner || owner.IsGone(_self, DateTime.UtcNow)) TryDelete(file);
        }
    }

    /// <summary>"service 3f2a… on host (pid 123)": an owner as the log and the status show it.</summary>
    public static string Describe(ItemOwner owner) => $"service {owner.Instance} on {owner.Process.Host} (pid {owner.Process.Pid})";

    private ItemOwner NewOwner(string? filing = null, string? problem = null) =>
        new(instance, _self, DateTime.UtcNow + lease, filing, problem);

    /// <summary>An id is taken once any item under it has been claimed: its owner file or run folder exists from then on.</summary>
    private bool Taken(string id) =>
        Directory.Exists(queue.RunFolder(id)) || File.Exists(queue.OwnerFile(id))
        || new[] { queue.Running, queue.Done, queue.Failed }.Any(folder => QueueFolders.Manifests(folder).Any(m => QueueFolders.IdOf(m) == id));

    private FileStream HoldLock()
    {
        var deadline = DateTime.UtcNow + LockPatience;
        while (true)
        {
            try
            {
                return new FileStream(queue.ClaimLock, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline && File.Exists(queue.ClaimLock))
            {
                Thread.Sleep(10); // held by another service for a few milliseconds
            }
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
