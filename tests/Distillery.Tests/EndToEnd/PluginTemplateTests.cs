using System.Diagnostics;
using System.Text.Json.Nodes;
using FluentAssertions;
using Distillery.Tests.Numerics;
using Xunit;
using Xunit.Abstractions;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// The plugin author's path, followed as an author would: the contract as a package, <c>dotnet new distillery-plugin</c>
/// for every kind, a build against the package, the build output dropped into a plugin folder, and a run of the built
/// <c>distillery</c> executable that uses the new plugins; and the third-party sample in samples/ built and run the same way.
/// </summary>
public sealed class PluginTemplateTests(PluginKitFixture kit, ITestOutputHelper log) : IClassFixture<PluginKitFixture>
{
    private static readonly string[] Kinds = ["algorithm", "kernel", "dataset", "evaluator"];

    [Fact]
    public void Every_kind_the_template_generates_builds_against_the_package_and_runs_in_one_manifest()
    {
        var watch = Stopwatch.StartNew();
        var authors = kit.NewFolder("authors");
        foreach (var kind in Kinds)
            kit.NewFromTemplate(authors, "--kind", kind, "-n", Project(kind), "--packages", kit.Packages, "--abstractions-version", kit.AbstractionsVersion);
        var generated = watch.Elapsed.TotalSeconds;

        // One build of the four projects (one restore, one MSBuild process) keeps the test short; each project's
        // output folder is then dropped into the plugin folder as an author would copy it.
        var solution = Path.Combine(authors, "plugins.slnx");
        File.WriteAllText(solution, "<Solution>\n" + string.Concat(Kinds.Select(k => $"  <Project Path=\"{Project(k)}/{Project(k)}.csproj\" />\n")) + "</Solution>\n");
        var build = DotnetCli.Run(authors, ["build", solution, "-m:1", "-nodeReuse:false", "-nologo", "-v", "q", .. kit.RestoreProperties]);
        build.Should().NotContain("warning ", "the generated projects build clean, every public member documented");
        var built = watch.Elapsed.TotalSeconds;

        // The dataset plugin's own manifest runs on its example data (data/, relative to the working directory) with the
        // plugins in its plugins/ folder; the other three kinds replace the bundled plugins it names.
        var datasetProject = Path.Combine(authors, Project("dataset"));
        foreach (var kind in Kinds)
            DropIntoPluginFolder(Path.Combine(authors, Project(kind), "bin", "Debug", "net10.0"), Path.Combine(datasetProject, "plugins", Project(kind)));
        var runFolder = kit.NewFolder("template-run");
        // One thread: libtorch's threads wait for each other at every small operation when the cores are shared with other work.
        var run = DistilleryProcess.Run(datasetProject, "run", "manifest.json", "--output", runFolder, "--threads", "1",
            "--set", """kernel={"name":"my-kernel-plugin","options":{"lengthScale":1.5}}""",
            "--set", "algorithm.name=my-algorithm-plugin",
            "--set", """evaluation=[{"name":"my-evaluator-plugin","options":{"neighbours":3}},{"name":"krr"}]""");
        log.WriteLine($"set-up {kit.SetUpSeconds:F1} s (pack, template install); dotnet new x4 {generated:F1} s, build {built - generated:F1} s, run {watch.Elapsed.TotalSeconds - built:F1} s");

        run.ExitCode.Should().Be(0, run.ToString());
        run.Output.Should().Contain("Distilling with my-algorithm-plugin");
        var metrics = RunFixtures.Metrics(runFolder);
        log.WriteLine(metrics.ToJsonString());
        metrics["supportSize"]!.GetValue<int>().Should().Be(15, "5 images of each of the example data's 3 classes");
        var evaluations = metrics["evaluations"]!;
        // Three shapes, shifted and noisy: 5 examples a class tell them apart (chance is 1/3).
        evaluations["my-evaluator-plugin"]!["testAccuracy"]!.GetValue<double>().Should().BeGreaterThan(0.9);
        evaluations["my-evaluator-plugin"]!["testCount"]!.GetValue<double>().Should().Be(60);
        evaluations["krr"]!["testAccuracy"]!.GetValue<double>().Should().BeGreaterThan(0.9, "kernel ridge regression with the generated Gaussian kernel");
    }

    [Fact]
    public void The_kmeans_sample_builds_against_the_package_in_a_clone_and_beats_random_images_on_its_manifest()
    {
        var watch = Stopwatch.StartNew();
        var samples = Path.Combine(kit.Clone, "samples");
        CopyProject(Path.Combine(DistilleryProcess.RepositoryRoot, "samples"), samples, topLevelOnly: true);
        var sample = Path.Combine(samples, "KMeansCentroids");
        CopyProject(Path.Combine(DistilleryProcess.RepositoryRoot, "samples", "KMeansCentroids"), sample, topLevelOnly: false);

        // As its manifest says, from its folder; the package is found in the clone's artifacts/packages by default.
        var plugin = Path.Combine(sample, "plugins", "KMeansCentroids");
        var build = DotnetCli.Run(sample, ["build", "-o", plugin, $"-p:DistilleryAbstractionsVersion={kit.AbstractionsVersion}", "-m:1", "-nodeReuse:false", "-nologo", "-v", "q", .. kit.RestoreProperties]);
        build.Should().NotContain("warning ");
        RequireOnlyThePlugin(plugin, "KMeansCentroids");
        var built = watch.Elapsed.TotalSeconds;
        var runFolder = kit.NewFolder("sample-run");
        var run = DistilleryProcess.Run(sample, "run", "manifest.json", "--output", runFolder, "--threads", "1");
        log.WriteLine($"build {built:F1} s, run {watch.Elapsed.TotalSeconds - built:F1} s");

        run.ExitCode.Should().Be(0, run.ToString());
        run.Output.Should().Contain("Distilling with kmeans-centroids");
        RunFixtures.Metrics(runFolder)["supportSize"]!.GetValue<int>().Should().Be(100);
        // 10 random real images per class score 0.65 here (seed 0, the same kernel); the class modes do better.
        RunFixtures.KrrAccuracy(runFolder).Should().BeGreaterThan(0.75);
    }

    private static string Project(string kind) => $"My{char.ToUpperInvariant(kind[0])}{kind[1..]}Plugin";

    private static void DropIntoPluginFolder(string buildOutput, string pluginFolder)
    {
        Directory.CreateDirectory(pluginFolder);
        foreach (var file in Directory.EnumerateFiles(buildOutput, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(pluginFolder, Path.GetRelativePath(buildOutput, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        RequireOnlyThePlugin(pluginFolder, Path.GetFileName(pluginFolder));
    }

    /// <summary>
    /// The csproj's ExcludeAssets at work: the plugin folder holds the plugin and its .deps.json, and no copy of the
    /// contract, TorchSharp or any native library (the host provides them). And the code follows the rule it tells
    /// authors: no temporary Scalar handed to libtorch (see NativeScalarTests).
    /// </summary>
    private static void RequireOnlyThePlugin(string pluginFolder, string name)
    {
        using (var scanner = new ScalarTemporaryScanner(AppContext.BaseDirectory))
            scanner.Offences(Path.Combine(pluginFolder, name + ".dll")).Should().BeEmpty("{0} must hold every Scalar it hands libtorch", name);
        File.Exists(Path.Combine(pluginFolder, name + ".dll")).Should().BeTrue();
        File.Exists(Path.Combine(pluginFolder, name + ".deps.json")).Should().BeTrue();
        Directory.EnumerateFiles(pluginFolder, "*.dll", SearchOption.AllDirectories).Select(Path.GetFileName)
            .Should().BeEquivalentTo([name + ".dll"], "the host provides Distillery.Abstractions, TorchSharp and the rest");
        Directory.Exists(Path.Combine(pluginFolder, "runtimes")).Should().BeFalse("no native library belongs in a plugin folder");
    }

    /// <summary>Copies a project's sources (not bin/, obj/ or a plugins/ folder a local build may have left).</summary>
    private static void CopyProject(string from, string to, bool topLevelOnly)
    {
        string[] skipped = ["bin", "obj", "plugins", "runs"];
        foreach (var file in Directory.EnumerateFiles(from, "*", topLevelOnly ? SearchOption.TopDirectoryOnly : SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (skipped.Contains(relative.Split(Path.DirectorySeparatorChar)[0])) continue;
            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
