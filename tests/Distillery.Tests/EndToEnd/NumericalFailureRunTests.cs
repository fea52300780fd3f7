using System.Text.Json.Nodes;
using FluentAssertions;
using StbImageWriteSharp;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// Issue 13, kinds 1 and 3, through the executable: a run whose numbers become non-finite or whose solve is singular
/// ends with exit 3 (2 for a refused option) and one error line naming the step, what failed and what to change; no
/// metrics.json, no C++ backtrace on the console, the stack trace in run.log.
/// </summary>
public sealed class NumericalFailureRunTests
{
    /// <summary>
    /// An image folder of 8×8 RGB PNGs, two classes, three training and one test image each. <paramref name="pixel"/>
    /// gives (class, image, x, y, channel) → byte.
    /// </summary>
    private static string ImageFolder(ScratchFolder scratch, Func<int, int, int, int, int, byte> pixel)
    {
        var root = scratch.Combine("images");
        foreach (var (split, count) in new[] { ("train", 3), ("test", 1) })
            for (var c = 0; c < 2; c++)
                for (var i = 0; i < count; i++)
                {
                    var data = new byte[8 * 8 * 3];
                    for (var k = 0; k < data.Length; k++)
                        data[k] = pixel(c, split == "test" ? i + 10 : i, k / 3 % 8, k / 24, k % 3);
                    var path = Path.Combine(root, split, $"class{c}", $"{i}.png");
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    using var stream = File.Create(path);
                    new ImageWriter().WritePng(data, 8, 8, ColorComponents.RedGreenBlue, stream);
                }
        return root;
    }

    private static JsonObject Manifest(string images, JsonObject algorithm, double krrRegularization = 1e-6, double epsilon = 1e-8) => new()
    {
        ["name"] = "numerics",
        ["dataset"] = new JsonObject { ["name"] = "image-folder", ["options"] = new JsonObject { ["path"] = images, ["size"] = 8 } },
        ["preprocess"] = new JsonArray(new JsonObject { ["name"] = "standardize", ["options"] = new JsonObject { ["epsilon"] = epsilon } }),
        ["kernel"] = new JsonObject { ["name"] = "fc" },
        ["algorithm"] = algorithm,
        ["evaluation"] = new JsonArray(new JsonObject { ["name"] = "krr", ["options"] = new JsonObject { ["regularization"] = krrRegularization } }),
    };

    private static JsonObject Algorithm(string name, JsonObject? options = null) =>
        new() { ["name"] = name, ["options"] = options ?? new JsonObject { ["imagesPerClass"] = 2 } };

    /// <summary>Each class's training images are three identical copies (a per-class colour with a pattern), tests vary.</summary>
    private static byte IdenticalCopies(int c, int i, int x, int y, int channel) =>
        (byte)(i >= 10 ? (x * 31 + y * 17 + channel * 7 + i) % 256 : (c * 90 + x * 20 + y * 5 + channel * 40) % 256);

    private static DistilleryProcess.Result Run(ScratchFolder scratch, JsonObject manifest) =>
        DistilleryProcess.Run(scratch.Path, "run", RunFixtures.Write(scratch.Path, manifest), "--output", scratch.Combine("run"));

    /// <summary>Exit code, exactly one error line with the expected text, nothing of libtorch's backtrace, no figures.</summary>
    private static void ShouldFailWith(DistilleryProcess.Result result, ScratchFolder scratch, int exitCode, string errorPattern)
    {
        result.ExitCode.Should().Be(exitCode, result.ToString());
        var errors = result.Error.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        errors.Should().ContainSingle(result.ToString()).Which.Should().Match(errorPattern);
        (result.Output + result.Error).Should().NotContain("frame #").And.NotContain("Exception raised from").And.NotContain("   at ");
        File.Exists(scratch.Combine("run", "metrics.json")).Should().BeFalse("no figure computed from non-finite numbers is written");
    }

    [Fact]
    public void The_quickstart_whose_last_kip_update_blows_up_fails_naming_the_step_instead_of_reporting_chance()
    {
        using var scratch = new ScratchFolder();
        var result = DistilleryProcess.Run(scratch.Path, "run", Path.Combine(DistilleryProcess.RepositoryRoot, "manifests", "quickstart.json"),
            "--set", "algorithm.options.steps=1", "--set", "algorithm.options.learningRate=1e20", "--output", scratch.Combine("run"));

        ShouldFailWith(result, scratch, 3,
            "error: KIP step 1 (the last): the kernel matrix K_ss of the final support set (100×100, Float32) became non-finite (* values are NaN or infinite); " +
            "its images reach magnitude *E+*; lower algorithm.options.learningRate (now 1E+20)*");
        File.ReadAllText(scratch.Combine("run", "run.log")).Should().Contain("NumericalFailureException", "the stack trace goes to run.log");
    }

    [Fact]
    public void Standardize_with_epsilon_0_refuses_an_image_folder_whose_blue_channel_is_zero_everywhere()
    {
        using var scratch = new ScratchFolder();
        var images = ImageFolder(scratch, (c, i, x, y, channel) => channel == 2 ? (byte)0 : (byte)(c * 100 + i * 30 + x * 7 + y));

        var result = Run(scratch, Manifest(images, Algorithm("natural"), epsilon: 0));

        ShouldFailWith(result, scratch, 2,
            "error: preprocess[0].options.epsilon: standardize: channel 2 (every value 0) of the 3-channel training images does not vary over the 6 images, and epsilon is 0*");
    }

    [Fact]
    public void The_krr_evaluator_on_identical_training_copies_in_float32_names_itself_the_matrix_and_the_ridge()
    {
        using var scratch = new ScratchFolder();
        var result = Run(scratch, Manifest(ImageFolder(scratch, IdenticalCopies), Algorithm("natural"), krrRegularization: 1e-12));

        ShouldFailWith(result, scratch, 3,
            "error: evaluator 'krr': cannot solve with K_ss + λI (4×4, Float32, λ = *E-12 = evaluation[0].options.regularization 1E-12 × mean diagonal *): " +
            "the matrix is singular in Float32*raise evaluation[0].options.regularization (1e-6 is the usual default) or run in float64 (\"dtype\": \"float64\")");
    }

    [Fact]
    public void Kip_on_identical_training_copies_names_its_first_step()
    {
        using var scratch = new ScratchFolder();
        var kip = Algorithm("kip", new JsonObject
        {
            ["imagesPerClass"] = 2, ["steps"] = 3, ["targetBatchSize"] = 4, ["regularization"] = 1e-12, ["evaluationInterval"] = 0,
        });

        var result = Run(scratch, Manifest(ImageFolder(scratch, IdenticalCopies), kip));

        ShouldFailWith(result, scratch, 3,
            "error: KIP step 1: cannot solve with K_ss + λI (4×4, Float32, λ = *E-12 = algorithm.options.regularization 1E-12 × mean diagonal *): " +
            "the matrix is singular in Float32*raise algorithm.options.regularization*");
    }
}
