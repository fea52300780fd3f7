using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Abstractions.Manifests;
using Distillery.Engine.Plugins;

namespace Distillery.Engine.Manifests;

/// <summary>
/// A plugin chosen by the manifest, with its bound and validated options, configured at <paramref name="ManifestPath"/>
/// (<c>algorithm</c>, <c>preprocess[2]</c>, <c>evaluation[1]</c>, …).
/// </summary>
/// <param name="Id">What the plugin's figures are named by: an evaluation entry's <c>id</c>, else the plugin's name.</param>
public sealed record PluginChoice(PluginDescriptor Plugin, object Options, string ManifestPath, string Id)
{
    /// <summary>A new instance of the plugin, as its contract <typeparamref name="T"/>.</summary>
    public T Create<T>() where T : class => (T)Plugin.Create();

    /// <summary>
    /// Runs one call into this plugin (create, load, check, fit, distil, evaluate). An <see cref="OptionException"/> it
    /// throws becomes a <see cref="DistilleryException"/> (exit 2, as before) that names the option by its full manifest
    /// path: <c>evaluation[1].options.depth: …</c>. Every other exception passes unchanged.
    /// </summary>
    public TResult Call<TResult>(Func<TResult> call)
    {
        try
        {
            return call();
        }
        catch (OptionException e)
        {
            throw new DistilleryException($"{ManifestPaths.Option(ManifestPath, e.Option)}: {e.Problem}", e);
        }
    }

    /// <inheritdoc cref="Call{TResult}(Func{TResult})"/>
    public void Call(Action call) => Call(() => { call(); return true; });
}

/// <summary>A validated manifest: every plugin resolved, every option bound. Nothing has run yet.</summary>
public sealed record ExperimentPlan(
    ExperimentManifest Manifest,
    PluginChoice Dataset,
    IReadOnlyList<PluginChoice> Preprocess,
    PluginChoice? Kernel,
    PluginChoice Algorithm,
    IReadOnlyList<PluginChoice> Evaluation)
{
    /// <summary>
    /// The manifest as it will run: every plugin section with its version and every option's default filled in, every
    /// evaluation entry with its id (see <see cref="Runs.ExperimentFingerprint"/> for how a run folder's copy is compared).
    /// </summary>
    public JsonObject ToResolvedJson()
    {
        static JsonObject Section(PluginChoice choice) => new()
        {
            ["name"] = choice.Plugin.Name,
            ["version"] = choice.Plugin.Version,
            ["options"] = Manifests.OptionsSchema.ToJson(choice.Options),
        };
        static JsonObject Evaluator(PluginChoice choice)
        {
            var section = Section(choice);
            section.Insert(0, "id", choice.Id);
            return section;
        }
        var json = new JsonObject
        {
            ["name"] = Manifest.Name,
            ["seed"] = Manifest.Seed,
            ["device"] = Manifest.Device,
            ["dtype"] = Manifest.DType,
            ["dataset"] = Section(Dataset),
            ["preprocess"] = new JsonArray(Preprocess.Select(p => (JsonNode)Section(p)).ToArray()),
        };
        if (Kernel is not null) json["kernel"] = Section(Kernel);
        json["algorithm"] = Section(Algorithm);
        json["evaluation"] = new JsonArray(Evaluation.Select(p => (JsonNode)Evaluator(p)).ToArray());
        // Only when present, so that the resolved manifest of a run without one (and its folder) stays as it was.
        if (Manifest.Validation is { } validation) json["validation"] = new JsonObject { ["images"] = validation.Images };
        json["output"] = new JsonObject { ["directory"] = Manifest.Output.Directory, ["tensorboard"] = Manifest.Output.TensorBoard };
        if (Manifest.Plugins.Count > 0) json["plugins"] = new JsonArray(Manifest.Plugins.Select(p => (JsonNode)p!).ToArray());
        return json;
    }
}
