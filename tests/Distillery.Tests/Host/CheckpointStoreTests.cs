using Distillery.Engine.Runs;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Host;

public sealed class CheckpointStoreTests : IDisposable
{
    private readonly HostTempFolder _temp = new();
    private readonly CollectingLogger _logger = new();

    public void Dispose() => _temp.Dispose();

    private string Folder => _temp.File("checkpoints");

    private static void Save(CheckpointStore store, long step)
    {
        using var images = torch.full([2, 3], (float)step);
        using var moments = torch.tensor(new double[] { step, -step });
        store.Save(step, new Dictionary<string, Tensor> { ["images"] = images, ["adam.m"] = moments });
    }

    private CheckpointStore SavedAt(params long[] steps)
    {
        var store = new CheckpointStore(Folder, _logger, keep: 2);
        foreach (var step in steps) Save(store, step);
        return store;
    }

    [Fact]
    public void Keeps_the_newest_two_checkpoints()
    {
        SavedAt(100, 200, 300);

        Directory.GetFiles(Folder).Select(Path.GetFileName).Should().BeEquivalentTo(
            "step-00000200.safetensors", "step-00000300.safetensors");
    }

    [Fact]
    public void LoadLatest_returns_the_newest_step_and_its_tensors()
    {
        var store = SavedAt(100, 200, 300);

        var checkpoint = store.LoadLatest();

        checkpoint.Should().NotBeNull();
        checkpoint!.Step.Should().Be(300);
        checkpoint.Tensors["images"].shape.Should().Equal(2, 3);
        checkpoint.Tensors["images"].data<float>().ToArray().Should().AllSatisfy(v => v.Should().Be(300f));
        checkpoint.Tensors["adam.m"].data<double>().ToArray().Should().Equal(300d, -300d);
        _logger.Entries.Should().NotContain(e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public void An_owed_evaluation_survives_the_file_and_a_checkpoint_without_the_mark_owes_none()
    {
        var store = SavedAt(100); // no mark: saved between steps, or by a version before the mark existed
        using var owed = torch.tensor(true);
        using var images = torch.zeros(2, 3);
        store.Save(200, new Dictionary<string, Tensor> { ["images"] = images, [Distillery.Abstractions.Runs.Checkpoint.EvaluationPendingName] = owed });

        var latest = store.LoadLatest()!;
        latest.Step.Should().Be(200);
        latest.EvaluationPending.Should().BeTrue();
        new Distillery.Abstractions.Runs.Checkpoint(100, new Dictionary<string, Tensor> { ["images"] = images }).EvaluationPending.Should().BeFalse();
        using var settled = torch.tensor(false);
        new Distillery.Abstractions.Runs.Checkpoint(300, new Dictionary<string, Tensor> { [Distillery.Abstractions.Runs.Checkpoint.EvaluationPendingName] = settled })
            .EvaluationPending.Should().BeFalse();
    }

    [Fact]
    public void A_new_store_on_the_same_folder_finds_the_checkpoints()
    {
        SavedAt(100, 200);

        new CheckpointStore(Folder, NullLogger.Instance).LoadLatest()!.Step.Should().Be(200);
    }

    [Fact]
    public void A_damaged_newest_checkpoint_falls_back_to_the_one_before_with_a_warning()
    {
        var store = SavedAt(100, 200, 300);
        var newest = Path.Combine(Folder, "step-00000300.safetensors");
        var bytes = File.ReadAllBytes(newest);
        for (var i = 1; i <= 4; i++) bytes[^i] ^= 0xFF;
        File.WriteAllBytes(newest, bytes);

        var checkpoint = store.LoadLatest();

        checkpoint!.Step.Should().Be(200);
        checkpoint.Tensors["images"].data<float>().ToArray().Should().AllSatisfy(v => v.Should().Be(200f));
        _logger.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning)
            .Which.Message.Should().Contain("step-00000300.safetensors").And.Contain("checksum");
    }

    [Fact]
    public void A_damaged_header_falls_back_too()
    {
        var store = SavedAt(100, 200);
        var newest = Path.Combine(Folder, "step-00000200.safetensors");
        var bytes = File.ReadAllBytes(newest);
        // Keep the JSON valid but make the shape disagree with the data.
        var text = System.Text.Encoding.Latin1.GetString(bytes);
        var at = text.IndexOf("\"shape\":[2,3]", StringComparison.Ordinal);
        at.Should().BePositive();
        bytes[at + "\"shape\":[".Length] = (byte)'5';
        File.WriteAllBytes(newest, bytes);

        store.LoadLatest()!.Step.Should().Be(100);
        _logger.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning);
    }

    [Fact]
    public void A_truncated_newest_checkpoint_falls_back()
    {
        var store = SavedAt(100, 200);
        var newest = Path.Combine(Folder, "step-00000200.safetensors");
        File.WriteAllBytes(newest, File.ReadAllBytes(newest)[..20]);

        store.LoadLatest()!.Step.Should().Be(100);
    }

    [Fact]
    public void Nothing_saved_or_everything_damaged_gives_null()
    {
        new CheckpointStore(Folder, _logger).LoadLatest().Should().BeNull("the folder does not exist yet");

        var store = SavedAt(100);
        File.WriteAllText(Path.Combine(Folder, "step-00000100.safetensors"), "junk");

        store.LoadLatest().Should().BeNull();
        _logger.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).Should().SatisfyRespectively(
            damaged => damaged.Should().Contain("step-00000100.safetensors is damaged"),
            fallback => fallback.Should().Contain("No intact checkpoint").And.Contain("starting from step 0"));
    }

    [Fact]
    public void Keep_is_configurable()
    {
        var store = new CheckpointStore(Folder, _logger, keep: 1);
        Save(store, 1);
        Save(store, 2);

        Directory.GetFiles(Folder).Select(Path.GetFileName).Should().Equal("step-00000002.safetensors");
    }
}
