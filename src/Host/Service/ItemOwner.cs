using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Host.Outputs;

namespace Distillery.Host.Service;

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
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject json
                || json["instance"]?.GetValue<string>() is not { } instance
                || json["host"]?.GetValue<string>() is not { } host
                || json["pid"]?.GetValue<int>() is not { } pid
                || json["leaseExpires"]?.GetValue<string>() is not { } lease)
                return null;
            var process = new ProcessIdentity(host, json["bootId"]?.GetValue<string>() ?? "", pid, json["startTicks"]?.GetValue<long>());
            return new ItemOwner(instance, process, DateTime.Parse(lease, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
                json["filing"]?.GetValue<string>(), json["problem"]?.GetValue<string>());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}
