using Distillery.Abstractions.Plugins;
using TorchSharp;

namespace Distillery.Engine.Plugins;

/// <summary>
/// The versions of the two contract assemblies the host shares with every plugin — <c>Distillery.Abstractions</c>
/// and <c>TorchSharp</c>, which a plugin takes from the host, never ships (see <see cref="PluginLoadContext"/>) — and
/// the rule that says whether a plugin compiled against some version of them can run on these.
/// <para>
/// The rule, on assembly versions (major.minor; build and revision are ignored, they do not change the API): a plugin
/// built against W is served by a host with H when W.major = H.major and W.minor ≤ H.minor. A minor release only adds
/// members, so everything an older minor had is still there; a newer minor may have members the host lacks, which the
/// plugin would only miss mid-run (<see cref="MissingMethodException"/>). Below 1.0 — TorchSharp 0.107.0 has assembly
/// version 0.107.0.0 — any minor release may change the API (semantic versioning's major version zero), so there the
/// minor must match exactly: a plugin built against TorchSharp 0.106 is refused by a host with 0.107, as is one built
/// against 0.108.
/// </para>
/// </summary>
/// <param name="Abstractions">The <c>Distillery.Abstractions</c> assembly version the host serves.</param>
/// <param name="TorchSharp">The <c>TorchSharp</c> assembly version the host serves.</param>
public sealed record ContractVersions(Version Abstractions, Version TorchSharp)
{
    /// <summary>The assembly name of the plugin contracts.</summary>
    public const string AbstractionsName = "Distillery.Abstractions";

    /// <summary>The assembly name of TorchSharp's managed library.</summary>
    public const string TorchSharpName = "TorchSharp";

    /// <summary>
    /// The versions this process has loaded: read from the contract and TorchSharp assemblies themselves, so the check
    /// follows whatever the host was built with and is never a second copy of a version number to keep in step.
    /// </summary>
    public static ContractVersions Host { get; } = new(
        typeof(IPlugin).Assembly.GetName().Version ?? new Version(0, 0),
        typeof(torch).Assembly.GetName().Version ?? new Version(0, 0));

    /// <summary>Whether a host with assembly version <paramref name="served"/> can run code built against <paramref name="wanted"/> (the rule above).</summary>
    public static bool Serves(Version served, Version wanted) =>
        wanted.Major == served.Major && (served.Major == 0 ? wanted.Minor == served.Minor : wanted.Minor <= served.Minor);

    /// <summary>
    /// Why the plugin described by <paramref name="plugin"/> cannot run on these versions, as one sentence naming
    /// the plugin, what it was built against, what the host serves and what to do; <c>null</c> when it can (including
    /// when it references neither assembly).
    /// </summary>
    public string? Refusal(PluginAssemblyMetadata plugin)
    {
        var mismatches = new List<(string Name, string Wanted, string Served)>();
        foreach (var (name, served) in new[] { (AbstractionsName, Abstractions), (TorchSharpName, TorchSharp) })
        {
            var wanted = plugin.References.FirstOrDefault(r => r.Name == name)?.Version;
            if (wanted is not null && !Serves(served, wanted))
                mismatches.Add((name, wanted.ToString(2), served.ToString(2)));
        }
        if (mismatches.Count == 0) return null;

        var builtAgainst = string.Join(" and ", mismatches.Select(m => $"{m.Name} {m.Wanted}"));
        if (mismatches.Count == 1)
        {
            var (_, wanted, served) = mismatches[0];
            return $"{plugin.Identity.Name} is built against {builtAgainst}, this host serves {served}; " +
                   $"rebuild the plugin against {served} (or use a host that serves {wanted})";
        }
        var hostHas = string.Join(" and ", mismatches.Select(m => $"{m.Name} {m.Served}"));
        return $"{plugin.Identity.Name} is built against {builtAgainst}, this host serves {hostHas}; " +
               $"rebuild the plugin against those (or use a host that serves {builtAgainst})";
    }
}
