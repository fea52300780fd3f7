using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions.Manifests;
using Distillery.Abstractions.Plugins;
using Distillery.Engine.Manifests;

namespace Distillery.Engine.Runs;

/// <summary>
/// What makes two runs the same experiment, in a form that survives plugins gaining options: the resolved manifest
/// without <c>output</c> (where a folder lies is not part of its experiment), with every plugin section reduced to its
/// name, its version (<see cref="PluginVersions.Default"/> when the file records none, as files written before versions
/// did not) and its options <b>bound through today's options class</b>, every default filled in, and every evaluation
/// entry with its id (its name when the file records none). A run folder's <c>manifest.resolved.json</c> written before
/// a plugin gained an option thus has the same fingerprint as today's manifest: the missing option takes today's
/// default. An option the file has that the plugin no longer has is a difference.
/// </summary>
public sealed class ExperimentFingerprint
{
    private readonly JsonObject _canonical;
    private readonly string? _problem;

    private ExperimentFingerprint(JsonObject canonical, string? problem) => (_canonical, _problem) = (canonical, problem);

    /// <summary>The fingerprint of the experiment <paramref name="plan"/> describes.</summary>
    public static ExperimentFingerprint Of(ExperimentPlan plan) => Of(plan.ToResolvedJson(), plan);

    /// <summary>
    /// The fingerprint of a run folder's resolved manifest <paramref name="resolved"/>, its plugin options re-bound through
    /// the options classes of <paramref name="plan"/>'s plugins where a section names the same plugin as the plan does.
    /// </summary>
    public static ExperimentFingerprint Of(JsonObject resolved, ExperimentPlan plan)
    {
        var canonical = (JsonObject)resolved.DeepClone();
        canonical.Remove("output");
        var choices = new[] { plan.Dataset, plan.Kernel, plan.Algorithm }.Concat(plan.Preprocess).Concat(plan.Evaluation)
            .OfType<PluginChoice>().ToDictionary(c => c.ManifestPath);
        string? problem = null;

        // A section this host did not write (no name: an edited or damaged file) is compared as it is.
        JsonNode? Normalise(JsonNode? section, string path)
        {
            if (section is not JsonObject fields || fields["name"]?.GetValueKind() != JsonValueKind.String) return section?.DeepClone();
            var (normal, sectionProblem) = Canonical(fields, path, choices.GetValueOrDefault(path));
            problem ??= sectionProblem;
            return normal;
        }

        foreach (var path in new[] { "dataset", "kernel", "algorithm" })
            if (canonical.ContainsKey(path)) canonical[path] = Normalise(canonical[path], path);
        foreach (var list in new[] { "preprocess", "evaluation" })
            if (canonical[list] is JsonArray array)
                for (var i = 0; i < array.Count; i++) array[i] = Normalise(array[i], $"{list}[{i}]");
        return new ExperimentFingerprint(canonical, problem);
    }

    /// <summary>
    /// The first field in which the folder's experiment (this) differs from the manifest's (<paramref name="manifest"/>),
    /// leaving out the top-level sections named in <paramref name="ignored"/> (e.g. <c>evaluation</c>), as one line:
    /// <c>algorithm.options.steps: folder has 300, manifest has 400</c>; null when they agree. An option of the folder's
    /// that today's plugin no longer has, or a value it now refuses, comes first: re-binding found it.
    /// </summary>
    public string? FirstDifference(ExperimentFingerprint manifest, params string[] ignored)
    {
        if (_problem is not null && !ignored.Any(s => _problem.StartsWith(s, StringComparison.Ordinal))) return _problem;
        return Difference(Without(_canonical, ignored), Without(manifest._canonical, ignored), "");
    }

    /// <summary>
    /// A plugin section as the fingerprint holds it: id (evaluation entries), name, version and options, re-bound through
    /// <paramref name="choice"/>'s options class when the section names that plugin; with the first problem re-binding found.
    /// </summary>
    private static (JsonObject Section, string? Problem) Canonical(JsonObject fields, string path, PluginChoice? choice)
    {
        var name = fields["name"]!.GetValue<string>();
        var normal = new JsonObject();
        if (path.StartsWith("evaluation", StringComparison.Ordinal)) normal["id"] = fields["id"]?.DeepClone() ?? name;
        normal["name"] = name;
        normal["version"] = fields["version"]?.DeepClone() ?? PluginVersions.Default;
        var options = fields["options"] as JsonObject ?? new JsonObject();
        if (choice is null || choice.Plugin.Name != name)
        {
            normal["options"] = options.DeepClone();
            return (normal, null);
        }

        string? problem = null;
        var known = OptionsSchema.Describe(choice.Plugin.OptionsType).Select(o => o.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = new JsonObject();
        foreach (var (key, value) in options)
            if (known.Contains(key)) kept[key] = value?.DeepClone();
            else problem ??= $"{ManifestPaths.Option(path, key)}: folder has {Show(value)}, but {choice.Plugin.Kind} '{name}' has no such option any more";
        var problems = new List<string>();
        var bound = OptionsBinder.Bind(choice.Plugin.OptionsType, kept, $"{path}.options", problems);
        problem ??= problems.Count > 0 ? $"{problems[0]} (in the folder's manifest.resolved.json, which {choice.Plugin.Kind} '{name}' refuses today)" : null;
        normal["options"] = OptionsSchema.ToJson(bound);
        return (normal, problem);
    }

    private static JsonObject Without(JsonObject manifest, string[] sections)
    {
        var copy = (JsonObject)manifest.DeepClone();
        foreach (var section in sections) copy.Remove(section);
        return copy;
    }

    /// <summary>The first differing field under <paramref name="path"/>, depth first in the manifest's field order, then the folder's extra fields.</summary>
    private static string? Difference(JsonNode? folder, JsonNode? manifest, string path)
    {
        if (JsonNode.DeepEquals(folder, manifest)) return null;
        if (folder is JsonObject f && manifest is JsonObject m)
        {
            foreach (var key in m.Select(p => p.Key).Concat(f.Select(p => p.Key).Where(k => !m.ContainsKey(k))))
            {
                var child = path.Length == 0 ? key : $"{path}.{key}";
                if (!f.ContainsKey(key)) return $"{child}: folder has none, manifest has {Show(m[key])}";
                if (!m.ContainsKey(key)) return $"{child}: folder has {Show(f[key])}, manifest has none";
                if (Difference(f[key], m[key], child) is { } found) return found;
            }
            return null;
        }
        if (folder is JsonArray fa && manifest is JsonArray ma)
        {
            for (var i = 0; i < Math.Max(fa.Count, ma.Count); i++)
            {
                var child = $"{path}[{i}]";
                if (i >= fa.Count) return $"{child}: folder has none, manifest has {Show(ma[i])}";
                if (i >= ma.Count) return $"{child}: folder has {Show(fa[i])}, manifest has none";
                if (Difference(fa[i], ma[i], child) is { } found) return found;
            }
            return null;
        }
        return $"{path}: folder has {Show(folder)}, manifest has {Show(manifest)}";
    }

    /// <summary>A value for a one-line message: compact JSON, at most 80 characters.</summary>
    private static string Show(JsonNode? value)
    {
        var text = value?.ToJsonString() ?? "null";
        return text.Length > 80 ? text[..80] + "…" : text;
    }
}
