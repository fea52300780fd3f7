using System.Text.Json.Nodes;

namespace Distillery.Tests.EndToEnd;

/// <summary>Manifests and folders for the end-to-end tests.</summary>
internal static class RunFixtures
{
    /// <summary>A small KIP run on the embedded Fashion-MNIST sample (seconds on two cores).</summary>
    public static JsonObject SmallKipManifest(int steps = 20) => new()
    {
        ["name"] = "e2e-kip",
        ["seed"] = 3,
        ["dataset"] = new JsonObject { ["name"] = "fashion-mnist-sample" },
        ["preprocess"] = new JsonArray(new JsonObject { ["name"] = "standardize" }),
        ["kernel"] = new JsonObject { ["name"] = "fc", ["options"] = new JsonObject { ["depth"] = 1 } },
        ["algorithm"] = new JsonObject
        {
            ["name"] = "kip",
            ["options"] = new JsonObject
            {
                ["imagesPerClass"] = 2, ["steps"] = steps, ["targetBatchSize"] = 500,
                ["evaluationInterval"] = 10, ["checkpointInterval"] = 5,
            },
        },
        ["evaluation"] = new JsonArray(new JsonObject { ["name"] = "krr" }),
    };

    public static string Write(string folder, JsonObject manifest, string name = "manifest.json")
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, manifest.ToJsonString());
        return path;
    }

    public static JsonObject Metrics(string runFolder) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(runFolder, "metrics.json")))!.AsObject();

    public static double KrrAccuracy(string runFolder) =>
        Metrics(runFolder)["evaluations"]!["krr"]!["testAccuracy"]!.GetValue<double>();
}

/// <summary>A fresh temporary folder, deleted afterwards.</summary>
internal sealed class ScratchFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("distillery-e2e-").FullName;

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
