using System.Text.Json.Nodes;
using Distillery.Tests.Datasets;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>The executable on an image folder holding a JPEG cut at 60%: refused by default, left out with skip.</summary>
public sealed class ImageFolderRunTests
{
    private static string WriteFolder(ScratchFolder scratch)
    {
        var root = scratch.Combine("images");
        foreach (var split in new[] { "train", "test" })
            foreach (var (name, shade) in new[] { ("dark", 40), ("light", 200) })
            {
                Directory.CreateDirectory(Path.Combine(root, split, name));
                for (var i = 0; i < 3; i++)
                    File.WriteAllBytes(Path.Combine(root, split, name, $"{i}.png"), ImageFiles.Png(8, 8, 1, (x, y, _) => (byte)(shade + x + y + i)));
            }
        var photo = ImageFiles.Jpeg(64, 64, 3, (x, y, c) => (byte)(x * 3 + y * 2 + c * 40));
        File.WriteAllBytes(Path.Combine(root, "train", "light", "photo.jpg"), photo[..(photo.Length * 6 / 10)]);
        return root;
    }

    private static JsonObject Manifest(string root, string onBadFile) => new()
    {
        ["name"] = "image-folder-e2e",
        ["dataset"] = new JsonObject
        {
            ["name"] = "image-folder",
            ["options"] = new JsonObject { ["path"] = root, ["size"] = 8, ["channels"] = 1, ["onBadFile"] = onBadFile },
        },
        ["kernel"] = new JsonObject { ["name"] = "fc" },
        ["algorithm"] = new JsonObject { ["name"] = "natural", ["options"] = new JsonObject { ["imagesPerClass"] = 1 } },
        ["evaluation"] = new JsonArray(new JsonObject { ["name"] = "krr" }),
    };

    [Fact]
    public void A_cut_jpeg_fails_the_run_naming_it_and_is_left_out_with_skip()
    {
        using var scratch = new ScratchFolder();
        var root = WriteFolder(scratch);
        var cut = Path.Combine(root, "train", "light", "photo.jpg");

        var failed = DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, Manifest(root, "fail")), "--output", scratch.Combine("fail"));

        failed.ExitCode.Should().Be(2, failed.ToString());
        failed.Error.Should().StartWith($"error: {cut}: corrupt JPEG: Premature end of JPEG file");
        failed.Error.Should().NotContain("   at ");

        var skipped = DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, Manifest(root, "skip"), "skip.json"), "--output", scratch.Combine("skip"));

        skipped.ExitCode.Should().Be(0, skipped.ToString());
        (skipped.Output + skipped.Error).Should().Contain($"skipping {cut}: corrupt JPEG");
        File.ReadAllText(scratch.Combine("skip", "run.log")).Should().Contain("6 training and 6 test images");
    }
}
