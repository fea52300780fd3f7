using System.Text.Json.Nodes;
using Distillery.Tests.Datasets;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary><c>distillery validate</c> checks that the dataset's files exist and their headers parse.</summary>
public sealed class ValidateTests
{
    [Fact]
    public void Validate_refuses_a_dataset_whose_files_are_missing_and_accepts_it_once_they_are_there()
    {
        using var scratch = new ScratchFolder();
        var data = scratch.Combine("mnist");
        IdxTestFiles.WriteMnistFolder(data, trainCount: 40, testCount: 20, gzip: true);
        File.Delete(Path.Combine(data, "t10k-images-idx3-ubyte.gz"));
        var manifest = RunFixtures.SmallKipManifest(steps: 2);
        manifest["dataset"] = new JsonObject { ["name"] = "mnist", ["options"] = new JsonObject { ["path"] = data } };
        var path = RunFixtures.Write(scratch.Path, manifest);

        var missing = DistilleryProcess.Run(scratch.Path, "validate", path);

        missing.ExitCode.Should().Be(2, missing.ToString());
        missing.Error.Should().StartWith("error: ").And.Contain("t10k-images-idx3-ubyte").And.Contain("file not found").And.NotContain("valid");

        IdxTestFiles.WriteMnistFolder(data, trainCount: 40, testCount: 20, gzip: true);
        var valid = DistilleryProcess.Run(scratch.Path, "validate", path);
        valid.ExitCode.Should().Be(0, valid.ToString());
        valid.Error.Should().Contain(": valid");
    }
}
