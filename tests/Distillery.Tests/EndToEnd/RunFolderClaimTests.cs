using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// A run refused as invalid input (exit 2) claims nothing: its folder holds no manifest.resolved.json afterwards, and
/// the corrected command runs there instead of being refused as "a different experiment".
/// </summary>
public sealed class RunFolderClaimTests
{
    public static TheoryData<string, string[]> Mistakes => new()
    {
        // Refused while the data loads, before the algorithm starts.
        { "missing dataset folder", ["--set", "dataset.name=mnist", "--set", "dataset.options.path=/nonexistent/mnist"] },
        // Refused by the algorithm itself, once the folder was claimed: the claim is given back.
        { "more images per class than the class holds", ["--set", "algorithm.options.imagesPerClass=501"] },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void After_an_input_error_the_corrected_command_runs_in_the_same_folder(string mistake, string[] overrides)
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 2));
        var run = scratch.Combine("run");

        var refused = DistilleryProcess.Run(scratch.Path, ["run", manifest, "--output", run, .. overrides]);

        refused.ExitCode.Should().Be(2, $"{mistake}: {refused}");
        File.Exists(Path.Combine(run, "manifest.resolved.json")).Should().BeFalse(mistake);
        File.Exists(Path.Combine(run, "preprocessing.safetensors")).Should().BeFalse(mistake);

        var corrected = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", run);

        corrected.ExitCode.Should().Be(0, $"{mistake}: {corrected}");
        corrected.Error.Should().NotContain("different experiment");
        File.Exists(Path.Combine(run, "metrics.json")).Should().BeTrue();
    }
}
