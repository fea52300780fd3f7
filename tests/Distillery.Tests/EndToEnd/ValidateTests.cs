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

    [Fact]
    public void A_missing_dataset_folder_is_named_by_its_manifest_field_and_a_relative_one_by_where_it_was_looked_for()
    {
        using var scratch = new ScratchFolder();
        var manifest = RunFixtures.SmallKipManifest(steps: 2);
        manifest["dataset"] = new JsonObject { ["name"] = "mnist", ["options"] = new JsonObject { ["path"] = "no-such-data" } };

        var result = DistilleryProcess.Run(scratch.Path, "validate", RunFixtures.Write(scratch.Path, manifest));

        result.ExitCode.Should().Be(2, result.ToString());
        result.Error.Should().StartWith($"error: dataset.options.path: {scratch.Combine("no-such-data")}: dataset folder not found (it should hold ")
            .And.Contain($"; a relative path is read from the current directory, {scratch.Path})");
    }
}
