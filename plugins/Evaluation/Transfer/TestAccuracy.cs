using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>The fraction of a labelled set a trained network classifies correctly (argmax of its outputs).</summary>
public static class TestAccuracy
{
    /// <summary>The accuracy (a fraction) of <paramref name="network"/> on <paramref name="test"/>, in batches of <paramref name="batchSize"/>.</summary>
    /// <param name="learningRateOption">How the error names the learning-rate option: the run's
    /// <c>OptionPath("learningRate")</c>, e.g. "evaluation[1].options.learningRate".</param>
    /// <exception cref="NumericalFailureException">The network's outputs on some test images are not finite: an accuracy from them would mean nothing.</exception>
    public static double Measure(nn.Module<Tensor, Tensor> network, ImageSet test, int batchSize, Device device,
                                 ScalarType dtype, CancellationToken cancellation, string learningRateOption)
    {
        using var noGrad = no_grad();
        network.eval();
        long correct = 0;
        for (long start = 0; start < test.Count; start += batchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var length = Math.Min(batchSize, test.Count - start);
            var images = test.Images.narrow(0, start, length).to(dtype, device);
            var labels = test.Labels.narrow(0, start, length).to(device);
            var outputs = network.call(images);
            FiniteCheck.Require(outputs, "evaluator 'transfer'", $"the trained network's outputs on test images {start}–{start + length - 1}",
                () => $"the test images' largest magnitude is {FiniteCheck.LargestMagnitude(images):G3}: check the preprocessing, or lower {learningRateOption}");
            correct += outputs.argmax(1).eq(labels).sum().item<long>();
        }
        return (double)correct / test.Count;
    }
}
