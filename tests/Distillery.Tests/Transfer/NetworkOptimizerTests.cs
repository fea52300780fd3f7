using Distillery.Evaluation.Transfer;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

/// <summary>
/// NetworkOptimizer replaces TorchSharp's optim.SGD / optim.Adam and CosineAnnealingLR (whose step makes temporary
/// native Scalars): it must give the very same parameters, bit for bit, or the transfer figures would move.
/// </summary>
public sealed class NetworkOptimizerTests
{
    private const int Steps = 6;

    /// <summary>A small two-layer network, the same initial weights for both trainings.</summary>
    private static nn.Module<Tensor, Tensor> Network()
    {
        manual_seed(11);
        return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3));
    }

    private static float[] Parameters(nn.Module network) =>
        network.parameters().SelectMany(p => p.detach().contiguous().data<float>().ToArray()).ToArray();

    /// <summary>Trains on a fixed batch for <see cref="Steps"/> steps; <paramref name="trainStep"/> does step k given the network and its backward pass.</summary>
    private static float[] Train(Action<int, nn.Module<Tensor, Tensor>, Action> trainStep)
    {
        using var scope = NewDisposeScope();
        var network = Network();
        var generator = new Generator(3, CPU);
        var inputs = randn([8, 5], generator: generator);
        var targets = randn([8, 3], generator: generator);
        for (var step = 1; step <= Steps; step++)
            trainStep(step, network, () => nn.functional.mse_loss(network.call(inputs), targets).backward());
        return Parameters(network);
    }

    [Theory]
    [InlineData(TransferOptimizer.Sgd, 0.05, 5e-4)]
    [InlineData(TransferOptimizer.Adam, 0.01, 5e-4)]
    [InlineData(TransferOptimizer.Adam, 0.01, 0.0)]
    public void Matches_torchsharps_optimizer_and_cosine_schedule_bit_for_bit(TransferOptimizer kind, double learningRate, double weightDecay)
    {
        optim.Optimizer? reference = null;
        optim.lr_scheduler.LRScheduler? schedule = null;
        var expected = Train((step, network, backward) =>
        {
            reference ??= kind == TransferOptimizer.Sgd
                ? optim.SGD(network.parameters(), learningRate, momentum: 0.9, weight_decay: weightDecay)
                : optim.Adam(network.parameters(), learningRate, weight_decay: weightDecay);
            schedule ??= optim.lr_scheduler.CosineAnnealingLR(reference, Steps, eta_min: 0);
            reference.zero_grad();
            backward();
            reference.step();
            schedule.step();
        });

        NetworkOptimizer? ours = null;
        var rate = learningRate;
        var actual = Train((step, network, backward) =>
        {
            ours ??= NetworkOptimizer.Create(kind, network.parameters(), weightDecay);
            ours.ZeroGrad();
            backward();
            ours.Step(rate);
            rate = NetworkOptimizer.CosineAnnealed(rate, step, Steps);
        });
        ours!.Dispose();

        actual.Should().Equal(expected);
        rate.Should().Be(0, "the cosine schedule ends at 0");
    }

    [Fact]
    public void Weight_decay_pulls_towards_the_given_anchors_instead_of_zero()
    {
        // With a zero loss gradient, one SGD step is θ ← θ − lr·λ·(θ − anchor): 3 − 0.1·0.5·(3 − 1) = 2.9.
        using var scope = NewDisposeScope();
        var parameter = new TorchSharp.Modules.Parameter(tensor(new double[] { 3, -2 }));
        var anchor = tensor(new double[] { 1, -2 });
        using var optimizer = NetworkOptimizer.Create(TransferOptimizer.Sgd, [parameter], weightDecay: 0.5, decayTowards: [anchor]);
        parameter.sum().mul(zeros(1, float64)).sum().backward(); // a gradient that exists and is zero

        optimizer.Step(0.1);

        parameter.detach().data<double>().ToArray().Should().Equal(2.9, -2);
    }
}
