using Distillery.Abstractions.Architectures;
using Distillery.Evaluation.Transfer;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

/// <summary>
/// A batch trained in chunks (to keep each activation inside glibc's thread-arena heap) takes the same steps as the
/// whole batch: each chunk's mean loss weighted by its share, gradients accumulated, one optimiser step.
/// </summary>
[Collection(TransferCollection.Name)]
public sealed class ChunkedTrainingTests
{
    [Theory]
    [InlineData(TransferLoss.Mse, TransferOptimizer.Sgd, null)]           // the whole support set each step; SGD shows a gradient's scale, Adam would not
    [InlineData(TransferLoss.CrossEntropy, TransferOptimizer.Adam, 16)]   // shuffled minibatches of 16
    public void Chunks_give_the_parameters_and_loss_of_the_whole_batch(TransferLoss loss, TransferOptimizer optimizer, int? batchSize)
    {
        using var scope = NewDisposeScope();
        var options = new TransferOptions { Network = TransferNetwork.Convnet, Width = 8, Depth = 2, Steps = 4, Loss = loss,
                                            Optimizer = optimizer, BatchSize = batchSize, AugmentShift = 1, AugmentFlip = true };
        using var data = new Generator(0, CPU).manual_seed(3);
        var images = randn([40, 1, 8, 8], dtype: ScalarType.Float64, generator: data);
        var targets = randn([40, 3], dtype: ScalarType.Float64, generator: data);
        var classes = targets.argmax(1);

        (Tensor[] Parameters, double Loss) Train(long examplesPerChunk)
        {
            using var generator = new Generator(0, CPU).manual_seed(7);
            var network = TransferNetworks.Create(options, images.shape, 3, generator).to(ScalarType.Float64);
            using var objective = new TrainingObjective(loss, CrossEntropyTargets.Argmax, targets, supportClasses: classes);
            var order = new MinibatchOrder(40, options.ResolvedBatchSize(40), generator, CPU);
            var augmentation = new ImageAugmentation(options.AugmentShift, options.AugmentFlip, generator);
            var last = new NetworkTrainer(options, "learningRate").Train(network, images, objective, order, augmentation, examplesPerChunk,
                                                                          (_, _) => { }, CancellationToken.None);
            return (network.parameters().Select(p => p.detach().clone()).ToArray(), last);
        }

        var whole = Train(examplesPerChunk: 40);
        var chunked = Train(examplesPerChunk: 7); // 40 → 7 × 5 + 5; 16 → 7 + 7 + 2

        chunked.Loss.Should().BeApproximately(whole.Loss, 1e-12 * Math.Max(1, Math.Abs(whole.Loss)));
        chunked.Parameters.Should().HaveSameCount(whole.Parameters);
        for (var i = 0; i < whole.Parameters.Length; i++)
            chunked.Parameters[i].allclose(whole.Parameters[i], rtol: 1e-9, atol: 1e-12).Should().BeTrue($"parameter {i} must take the same steps");
    }

    [Fact]
    public void A_chunk_size_below_one_is_refused()
    {
        var options = new TransferOptions { Steps = 1 };
        var act = () => new NetworkTrainer(options, "learningRate").Train(null!, zeros(1), null!, null!, null!, 0, (_, _) => { }, CancellationToken.None);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
