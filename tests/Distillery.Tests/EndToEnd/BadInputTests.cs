using System.Text.Json.Nodes;
using Distillery.Tests.Datasets;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>Each kind of bad input: a clear one-line error, exit code 2, no stack trace, nothing lost.</summary>
public sealed class BadInputTests
{
    public static TheoryData<string, string[], string> ManifestMistakes => new()
    {
        { "unknown plugin name", ["algorithm.name=kipp"], "algorithm.name: unknown algorithm 'kipp'; known algorithms: dc, dm, dsa, herding, kcenter, kip, label-solve, natural" },
        { "unknown option", ["algorithm.options.stepz=3"], "algorithm.options.stepz: unknown option; allowed: imagesPerClass, steps," },
        { "wrong option type", ["algorithm.options.steps=\"ten\""], "algorithm.options.steps: expected an integer, got \"ten\"" },
        { "negative learning rate", ["algorithm.options.learningRate=-1"], "algorithm.options.learningRate: must be > 0, got -1" },
        { "a number beyond a double", ["algorithm.options.learningRate=1e400"], "algorithm.options.learningRate: 1e400 is beyond the largest number (about 1.8e308); expected a finite number" },
        { "unknown kernel output", ["kernel.options.output=ntkk"], "kernel.options.output: expected one of ntk, nngp" },
        { "unknown top-level field", ["steps=3"], "steps: unknown field; allowed: name," },
        { "bad dtype", ["dtype=float16"], "dtype: must be one of float32, float64" },
        { "more images per class than the class holds", ["algorithm.options.imagesPerClass=501"], "has 500 images" },
        { "missing dataset folder", ["dataset.name=fashion-mnist", "dataset.options.path=/nonexistent/fashion"], "/nonexistent/fashion" },
        { "cuda on a machine without CUDA", ["device=cuda"], "CUDA is not available" },
    };

    [Theory]
    [MemberData(nameof(ManifestMistakes))]
    public void A_manifest_mistake_is_one_clear_line_and_exit_code_2(string mistake, string[] overrides, string expected)
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 3));
        var arguments = new List<string> { "run", manifest, "--output", scratch.Combine("run") };
        foreach (var assignment in overrides) arguments.AddRange(["--set", assignment]);

        var result = DistilleryProcess.Run(scratch.Path, [.. arguments]);

        result.ExitCode.Should().Be(2, $"{mistake}: {result}");
        result.Error.Should().Contain(expected, mistake);
        ShouldBeCleanErrorLines(result.Error);
    }

    public static TheoryData<string, string> DamagedDatasets => new()
    {
        { "truncated", "train-images-idx3-ubyte: truncated" },
        { "wrong magic", "train-labels-idx1-ubyte: wrong magic number" },
        { "count mismatch", "t10k-labels-idx1-ubyte" },
    };

    [Theory]
    [MemberData(nameof(DamagedDatasets))]
    public void A_damaged_dataset_file_is_named_with_its_problem(string damage, string expected)
    {
        using var scratch = new ScratchFolder();
        var data = scratch.Combine("mnist");
        IdxTestFiles.WriteMnistFolder(data, trainCount: 40, testCount: 20, gzip: false);
        switch (damage)
        {
            case "truncated":
                var images = Path.Combine(data, "train-images-idx3-ubyte");
                File.WriteAllBytes(images, File.ReadAllBytes(images)[..^100]);
                break;
            case "wrong magic":
                File.WriteAllBytes(Path.Combine(data, "train-labels-idx1-ubyte"), IdxTestFiles.Encode(0x0803, [40], new byte[40]));
                break;
            case "count mismatch":
                File.WriteAllBytes(Path.Combine(data, "t10k-labels-idx1-ubyte"), IdxTestFiles.Labels(new byte[19]));
                break;
        }
        var manifest = RunFixtures.SmallKipManifest(steps: 2);
        manifest["dataset"] = new JsonObject { ["name"] = "mnist", ["options"] = new JsonObject { ["path"] = data } };

        var result = DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, manifest), "--output", scratch.Combine("run"));

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain(expected);
        ShouldBeCleanErrorLines(result.Error);
    }

    [Fact]
    public void Verbose_adds_the_stack_trace()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 3));

        var result = DistilleryProcess.Run(scratch.Path, "run", manifest, "--output", scratch.Combine("run"), "--set", "device=cuda", "--verbose");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("   at ");
    }

    [Fact]
    public void A_bad_command_line_is_invalid_input()
    {
        var result = DistilleryProcess.Run(Path.GetTempPath(), "run");
        result.ExitCode.Should().Be(2);
        result.Error.Should().StartWith("error:");

        DistilleryProcess.Run(Path.GetTempPath(), "plugins", "--kind", "algorithms").ExitCode.Should().Be(2);
    }

    [Theory]
    [InlineData("plugins")]
    [InlineData("schema")]
    [InlineData("validate")]
    public void Standard_output_on_a_full_device_is_one_line_and_exit_code_2(string command)
    {
        using var scratch = new ScratchFolder();
        string[] arguments = command == "validate"
            ? [command, RunFixtures.Write(scratch.Path, RunFixtures.SmallKipManifest(steps: 3))]
            : [command];
        // /dev/full fails every write with ENOSPC, as a full disk does.
        var result = DistilleryProcess.RunThroughShell(scratch.Path, "exec dotnet \"$@\" > /dev/full", arguments);

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().Contain("error: cannot write to standard output: No space left on device");
        ShouldBeCleanErrorLines(result.Error);
    }

    /// <summary>Every line of standard error is an "error:" line; no stack trace reaches the user.</summary>
    private static void ShouldBeCleanErrorLines(string error)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines.Should().NotBeEmpty();
        lines.Should().OnlyContain(l => l.StartsWith("error:") || l.StartsWith("warning:") || l.Contains("WRN]"), error);
        error.Should().NotContain("   at ");
    }
}
