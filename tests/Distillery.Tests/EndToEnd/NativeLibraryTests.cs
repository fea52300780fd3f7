using Distillery.Abstractions;
using Distillery.Engine.Plugins;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>libtorch that cannot be loaded: one line with the reason and what to change, exit 2, the install folder untouched.</summary>
public sealed class NativeLibraryTests
{
    /// <summary>Runs the executable as a user would under <c>ulimit -v <paramref name="kibibytes"/></c> (bash's builtin).</summary>
    private static DistilleryProcess.Result RunUnderAddressSpaceLimit(long kibibytes, string workingDirectory, params string[] arguments) =>
        DistilleryProcess.RunThroughShell(workingDirectory, $"ulimit -v {kibibytes} && exec dotnet \"$@\"", arguments);

    private static string[] InstallFolderListing() =>
        [.. Directory.EnumerateFileSystemEntries(DistilleryProcess.HostDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    [Fact]
    public void Too_little_address_space_is_one_line_naming_the_limit_and_nothing_is_written()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 2));
        var before = InstallFolderListing();

        var result = RunUnderAddressSpaceLimit(2_500_000, scratch.Path, "run", manifest, "--output", scratch.Combine("run"));

        result.ExitCode.Should().Be(2, result.ToString());
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().ContainSingle(result.ToString());
        lines[0].Should().StartWith("error: libtorch cannot be loaded:").And.Contain("2500000 KiB").And.Contain("ulimit -v");
        result.Output.Should().NotContain("TorchSharp");
        InstallFolderListing().Should().Equal(before, "TorchSharp's fallback copy into <app>/cpu/ must not run");
        Directory.Exists(scratch.Combine("run")).Should().BeFalse("nothing ran, so no run folder is claimed");
    }

    [Fact]
    public void Validate_reports_the_same_failure()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 2));

        var result = RunUnderAddressSpaceLimit(2_500_000, scratch.Path, "validate", manifest);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().StartWith("error: libtorch cannot be loaded:");
    }

    [Fact]
    public void The_issue_limit_of_4_GB_now_runs_because_malloc_arenas_are_capped()
    {
        // Before: under ulimit -v 4000000 glibc's per-thread malloc arenas (64 MB of address space each) used up the
        // limit, and the load failed (or, loaded earlier, the runtime aborted with "Out of memory.").
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 2));

        var result = RunUnderAddressSpaceLimit(4_000_000, scratch.Path, "run", manifest, "--output", scratch.Combine("run"));

        result.ExitCode.Should().Be(0, result.ToString());
        File.Exists(scratch.Combine("run", "metrics.json")).Should().BeTrue();
    }

    [Theory]
    [InlineData("this is not a shared library", "file too short")]
    [InlineData(null, "not found next to the executable")]
    public void A_damaged_or_missing_bridge_library_is_named_with_the_loader_reason(string? content, string reason)
    {
        var folder = Directory.CreateTempSubdirectory("distillery-native-").FullName;
        try
        {
            if (content is not null) File.WriteAllText(Path.Combine(folder, NativeTorchLoader.BridgeFileName), content);

            var load = () => NativeTorchLoader.Load(folder);

            var message = load.Should().Throw<DistilleryException>().Which.Message;
            message.Should().Contain(NativeTorchLoader.BridgeFileName).And.Contain(reason).And.Contain("dotnet build");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
