using Distillery.Abstractions.Augmentation;
using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// Random shifts and horizontal flips of each training batch, so that a network trained on a handful of images
/// sees them in many positions instead of memorising them. Each image is translated by up to
/// <c>maxShift</c> pixels in each direction (the uncovered border is zero: the mean after standardisation) and
/// mirrored with probability ½. Then, with <paramref name="differentiable"/>, DSA's augmentation (Zhao &amp; Bilen, ICML
/// 2021) as in its evaluation protocol: one family per batch, its parameters drawn per image. Draws come from the network's
/// generator on the CPU, so they depend on the seed alone, whatever the device.
/// </summary>
public sealed class ImageAugmentation(int maxShift, bool flip, Generator generator, DifferentiableAugmentation? differentiable = null)
{
    public Tensor Apply(Tensor batch)
    {
        var (n, height, width) = (batch.shape[0], batch.shape[2], batch.shape[3]);
        var result = batch;
        if (flip)
        {
            using var half = 0.5.ToScalar(); // every Scalar here is held for its native call (see HeldScalars)
            using var mirrored = rand(n, generator: generator).lt(half).to(batch.device).view(n, 1, 1, 1);
            result = where(mirrored, result.flip(3), result);
        }
        if (maxShift > 0)
        {
            // Pad, then crop a window at a random offset per image: rows and columns gathered by index.
            var span = 2 * maxShift + 1;
            var top = randint(0, span, [n, 1], generator: generator).to(batch.device);
            var left = randint(0, span, [n, 1], generator: generator).to(batch.device);
            var padded = F.pad(result, [maxShift, maxShift, maxShift, maxShift]);
            using var zero = 0L.ToScalar();
            using var heightScalar = height.ToScalar();
            using var widthScalar = width.ToScalar();
            var rows = top.add(arange(zero, heightScalar, HeldScalars.OneInteger, device: batch.device), HeldScalars.OneInteger)
                .view(n, 1, height, 1).expand(n, batch.shape[1], height, padded.shape[3]);
            var columns = left.add(arange(zero, widthScalar, HeldScalars.OneInteger, device: batch.device), HeldScalars.OneInteger)
                .view(n, 1, 1, width).expand(n, batch.shape[1], height, width);
            result = padded.gather(2, rows).gather(3, columns);
        }
        if (differentiable is not null)
        {
            using var transform = differentiable.Sample(generator, n);
            result = transform.Apply(result);
        }
        return result;
    }
}
