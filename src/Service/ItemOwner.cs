using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Engine.Outputs;

namespace Distillery.Service;

/// <summary>
/// The owner of a claimed queue item, kept in <c>running/&lt;id&gt;.owner</c> (JSON, written atomically): which service
/// instance holds it, the process behind it and the lease that instance renews while the item runs. A service
/// takes over an item only when its owner is gone (<see cref="IsGone"/>).
/// </summary>
/// <param name="Instance">The owning service's instance id (one per process start).</param>
/// <param name="Process">The owning service process.</param>
/// <param name="LeaseExpiresUtc">Until when the owner vouches for the item; renewed every third of the lease.</param>
/// <param name="Filing">"done" or "failed" once the run has ended and the item waits to be moved there, else null.</param>
/// <param name="Problem">Why the last move into <paramref name="Filing"/> failed, while it is retried; else null.</param>
public sealed record ItemOwner(string Instance, ProcessIdentity Process, DateTime LeaseExpiresUtc, string? Filing = null, string? Problem = null)
{
    /// <summary>
    /// Whether a service may take the item over: the lease has run out (an owner on any host), or the owner ran on
    /// <paramref name="observer"/>'s host and its process is gone (a crash or <c>kill -9</c> is seen at once there).
    /// </summary>
    public bool IsGone(ProcessIdentity observer, DateTime nowUtc) =>
        nowUtc > LeaseExpiresUtc || Process.IsGoneAsSeenBy(observer);

    public JsonObject ToJson() => new()
    {
        ["instance"] = Instance,
        ["host"] = Process.Host,
        ["bootId"] = Process.BootId,
        ["pid"] = Process.Pid,
        ["startTicks"] = Process.StartTicks,
        ["leaseExpires"] = LeaseExpiresUtc.ToString("O"),
        ["filing"] = Filing,
        ["problem"] = Problem,
    };

    /// <summary>Writes the owner file atomically, so a reader sees the old owner or the new one, never half.</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>
    /// The owner recorded at <paramref name="path"/>; null when there is none, or when the file is unreadable or not
    /// an owner record (an owner that died while writing it is treated as gone: the write is atomic, so only a
    /// foreign or damaged file gets here).
    /// </summary>
    public static ItemOwner? Read(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        if (JsonFile.ParseObject(text) is not { } json
            || JsonFile.String(json["instance"]) is not { } instance
            || JsonFile.String(json["host"]) is not { } host
            || JsonFile.Long(json["pid"]) is not long pid || pid is < int.MinValue or > int.MaxValue
            || JsonFile.String(json["leaseExpires"]) is not { } lease
            || !DateTime.TryParse(lease, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var expires))
            return null;
        var process = new ProcessIdentity(host, JsonFile.String(json["bootId"]) ?? "", (int)pid, JsonFile.Long(json["startTicks"]));
        return new ItemOwner(instance, process, expires, JsonFile.String(json["filing"]), JsonFile.String(json["problem"]));
    }
}
