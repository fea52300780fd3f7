using Distillery.Abstractions.Numerics;
using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Datasets;

/// <summary>
/// Per-channel standardisation fitted on the training images: x ↦ (x − mean_c) / (std_c + ε), the
/// preprocessing of the KIP/LS papers. Test images are transformed with the training statistics.
/// </summary>
[ExportPreprocessor("standardize", Description = "Per-channel (x - mean) / std with mean and std fitted on the training images.")]
public sealed class StandardizePreprocessor : IPreprocessor<StandardizeOptions>
{
    public IImageTransform Fit(RunContext run, Tensor trainImages, StandardizeOptions options)
    {
        FittingImages.Validate("standardize", trainImages);

        using var scope = NewDisposeScope();
        var (mean, std) = PerChannelStatistics(trainImages);
        if (options.Epsilon == 0) RequireVariation(mean, std, trainImages.shape[0]);
        using var epsilon = options.Epsilon.ToScalar(); // held for the native call (see HeldScalars)
        std = std.add(epsilon, HeldScalars.One);

        var transform = new StandardizeTransform(
            mean.to(trainImages.dtype, trainImages.device),
            std.to(trainImages.dtype, trainImages.device));
        run.Logger.LogInformation("standardize: per-channel mean {Mean}, std {Std}",
            Format(mean), Format(std));
        return transform;
    }

    /// <summary>
    /// With epsilon 0, a channel that never varies (say the blue of grey scans stored as RGB with blue 0) would be
    /// divided by 0 and become NaN everywhere: refuse it, naming the channel.
    /// </summary>
    private static void RequireVariation(Tensor mean, Tensor std, long imageCount)
    {
        var deviations = std.cpu().data<double>().ToArray();
        var means = mean.cpu().data<double>().ToArray();
        var constant = Enumerable.Range(0, deviations.Length).Where(c => deviations[c] == 0).ToList();
        if (constant.Count == 0) return;
        var which = string.Join(", ", constant.Select(c => $"channel {c} (every value {means[c]:G4})"));
        throw new OptionException("epsilon",
            $"standardize: {which} of the {deviations.Length}-channel training images does not vary over the {imageCount} images, " +
            "and epsilon is 0, so standardising would divide by zero and make it NaN; set it > 0 (its default is 1e-8) or load fewer channels");
    }

    /// <summary>
    /// Mean and (population) standard deviation per channel, accumulated in float64 (summing 47 million float32
    /// pixels loses digits) over chunks of images, so memory stays bounded however large the training set is.
    /// </summary>
    private static (Tensor Mean, Tensor Std) PerChannelStatistics(Tensor images)
    {
        const long chunk = 4096;
        long[] perChannel = [0, 2, 3];
        var count = (double)images.shape[0] * images.shape[2] * images.shape[3];
        using var countScalar = count.ToScalar(); // every Scalar here is held for its native call (see HeldScalars)
        var sum = zeros(images.shape[1], dtype: ScalarType.Float64, device: images.device);
        FittingImages.ForEachFloat64Chunk(images, chunk, part => sum.add_(part.sum(perChannel), HeldScalars.One));
        var mean = sum.div(countScalar);
        var squares = zeros_like(sum);
        FittingImages.ForEachFloat64Chunk(images, chunk, part =>
        {
            var deviations = part.sub(mean.view(1, -1, 1, 1));
            squares.add_(deviations.mul(deviations).sum(perChannel), HeldScalars.One);
        });
        return (mean, squares.div(countScalar).sqrt());
    }

    private static string Format(Tensor values) =>
        "[" + string.Join(", ", values.cpu().data<double>().ToArray().Select(v => v.ToString("G4"))) + "]";
}

/// <summary>
/// The fitted transform. It owns its statistics (detached from any dispose scope, since it outlives the
/// scope it was fitted in) and casts them to each input's dtype and device, so outputs match inputs.
/// </summary>
public sealed class StandardizeTransform : IImageTransform, IDisposable
{
    private readonly Tensor _mean;
    private readonly Tensor _std;

    /// <param name="mean">Per-channel mean [C].</param>
    /// <param name="std">Per-channel divisor [C] (standard deviation plus epsilon).</param>
    public StandardizeTransform(Tensor mean, Tensor std)
    {
        _mean = mean.detach().clone().DetachFromDisposeScope();
        _std = std.detach().clone().DetachFromDisposeScope();
        State = new Dictionary<string, Tensor> { ["mean"] = _mean, ["std"] = _std };
    }

    public IReadOnlyDictionary<string, Tensor> State { get; }

    public Tensor Forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var (mean, std) = Broadcast(images);
        return ((images - mean) / std).MoveToOuterDisposeScope();
    }

    public Tensor Inverse(Tensor images)
    {
        using var scope = NewDisposeScope();
        var (mean, std) = Broadcast(images);
        return images.mul(std).add(mean, HeldScalars.One).MoveToOuterDisposeScope();
    }

    private (Tensor Mean, Tensor Std) Broadcast(Tensor images)
    {
        if (images.dim() != 4 || images.shape[1] != _mean.shape[0])
            throw new DistilleryException(
                $"standardize: fitted on {_mean.shape[0]} channels, cannot transform shape [{string.Join(", ", images.shape)}]");
        return (_mean.to(images.dtype, images.device).view(1, -1, 1, 1),
                _std.to(images.dtype, images.device).view(1, -1, 1, 1));
    }

    public void Dispose()
    {
        _mean.Dispose();
        _std.Dispose();
    }
}
