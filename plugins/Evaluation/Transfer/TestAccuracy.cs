using Distillery.Abstractions.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>The fraction of a labelled set a trained network classifies correctly (argmax of its outputs).</summary>
public static class TestAccuracy
{
    public static double Measure(nn.Module<Tensor, Tensor> network, ImageSet test, int batchSize, Device device,
                                 ScalarType dtype, CancellationToken cancellation)
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
            correct += network.call(images).argmax(1).eq(labels).sum().item<long>();
        }
        return (double)correct / test.Count;
    }
}
