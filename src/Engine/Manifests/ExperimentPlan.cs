using System.Text.Json.Nodes;
using Distillery.Abstractions.Manifests;
using Distillery.Engine.Plugins;

namespace Distillery.Engine.Manifests;

/// <summary>A plugin chosen by the manifest, with its bound and validated options.</summary>
public sealed record PluginChoice(PluginDescriptor Plugin, object Options, string ManifestPath)
{
    public T Create<T>() where T : class => (T)Plugin.Create();
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
    /// <summary>The manifest as it will run: defaults filled in for every plugin option.</summary>
    public JsonObject ToResolvedJson()
    {
        static JsonObject Section(PluginChoice choice) => new()
        {
            ["name"] = choice.Plugin.Name,
            ["options"] = Manifests.OptionsSchema.ToJson(choice.Options),
        };
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
        json["evaluation"] = new JsonArray(Evaluation.Select(p => (JsonNode)Section(p)).ToArray());
        // Only when present, so that the resolved manifest of a run without one (and its folder) stays as it was.
        if (Manifest.Validation is { } validation) json["validation"] = new JsonObject { ["images"] = validation.Images };
        json["output"] = new JsonObject { ["directory"] = Manifest.Output.Directory, ["tensorboard"] = Manifest.Output.TensorBoard };
        if (Manifest.Plugins.Count > 0) json["plugins"] = new JsonArray(Manifest.Plugins.Select(p => (JsonNode)p!).ToArray());
        return json;
    }
}
