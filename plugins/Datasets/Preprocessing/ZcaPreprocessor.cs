using Distillery.Abstractions.Numerics;
using Distillery.Abstractions;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Datasets;

/// <summary>
/// Regularised ZCA whitening fitted on the training images, the preprocessing of the KIP / neural-tangents
/// CIFAR experiments. Each image is flattened to d = C·H·W features, then:
/// <list type="number">
/// <item>layer norm (option <c>layerNorm</c>): x ↦ (x − mean(x)) / ‖x − mean(x)‖₂, the mean and norm taken over
///   the d features of that image alone (a constant image, whose norm is 0, becomes all zeros);</item>
/// <item>centring by the training feature mean μ (d values) and whitening: z = (x − μ) W with
///   W = U (S + λ·mean(S))^(-1/2) Uᵀ, where U S Uᵀ is the population covariance (divided by N) of the centred
///   training features and λ is option <c>regularization</c>.</item>
/// </list>
/// Differences from the reference code (neural-tangents' KIP preprocessing): it uses the uncentred second moment
/// and resets the whitening of the eigen-directions beyond the N-th to 1 when N &lt; d; here the features are
/// centred (so the transform is a true ZCA, with an exact inverse) and the ridge alone keeps small eigenvalues finite.
/// Statistics and the eigendecomposition are computed in float64 over chunks of images, so memory is a few d×d
/// matrices (75 MB each at d = 3072) however large the training set.
/// </summary>
[ExportPreprocessor("zca", Description = "Per-image layer norm then regularised ZCA whitening fitted on the training images (KIP / neural-tangents preprocessing).")]
public sealed class ZcaPreprocessor : IPreprocessor<ZcaOptions>
{
    private const long Chunk = 2048;

    public IImageTransform Fit(RunContext run, Tensor trainImages, ZcaOptions options)
    {
        FittingImages.Validate("zca", trainImages);

        var n = trainImages.shape[0];
        var d = trainImages.shape[1] * trainImages.shape[2] * trainImages.shape[3];
        if (n <= d)
            // The centred covariance has rank at most N − 1 < d: the missing directions get eigenvalue 0 and are
            // scaled by 1/sqrt(ridge) only, so the result depends strongly on the regularisation.
            run.Logger.LogWarning(
                "zca: fitting on {Images} images with {Features} features per image (no more images than features): the centred covariance is rank-deficient and only the regularization ({Regularization}) keeps the whitening finite",
                n, d, options.Regularization);

        using var scope = NewDisposeScope();
        var flat = trainImages.reshape(n, d);
        var mean = FeatureMean(flat, options.LayerNorm);
        var covariance = Covariance(flat, mean, options.LayerNorm);

        // At d = 3072 this is the slow step: about a minute on two CPU cores.
        run.Logger.LogInformation("zca: eigendecomposition of the covariance of {Features} features (float64)", d);
        var (eigenvalues, eigenvectors) = linalg.eigh(covariance);
        using var zero = 0.0.ToScalar(); // every Scalar here is held for its native call (see HeldScalars)
        eigenvalues = eigenvalues.clamp_min(zero); // a PSD matrix; eigh may return tiny negative rounding errors
        var meanEigenvalue = eigenvalues.mean().item<double>();
        var ridge = options.Regularization * meanEigenvalue;
        using var ridgeScalar = ridge.ToScalar();
        var regularised = eigenvalues.add(ridgeScalar, HeldScalars.One);
        var smallest = regularised.min().item<double>();
        if (!(smallest > 0))
            throw meanEigenvalue > 0
                ? new OptionException(nameof(options.Regularization),
                    $"zca: the training covariance is singular (smallest eigenvalue {eigenvalues.min().item<double>():G3}){ConstantChannels(covariance, trainImages.shape[1])} " +
                    $"and regularization is {options.Regularization}; set it > 0")
                : new DistilleryException("zca: the training images do not vary (covariance is zero), there is nothing to whiten");

        var whitening = (eigenvectors * regularised.rsqrt()).matmul(eigenvectors.T);
        var unwhitening = (eigenvectors * regularised.sqrt()).matmul(eigenvectors.T);
        run.Logger.LogInformation(
            "zca: fitted on {Images} images of {Features} features (layer norm {LayerNorm}); eigenvalues {Min:G3} to {Max:G3}, mean {Mean:G3}, ridge {Ridge:G3}",
            n, d, options.LayerNorm, eigenvalues.min().item<double>(), eigenvalues.max().item<double>(), meanEigenvalue, ridge);

        return new ZcaTransform(mean, whitening, unwhitening, options.LayerNorm,
            [trainImages.shape[1], trainImages.shape[2], trainImages.shape[3]]);
    }

    /// <summary>", naming channel 2 (every value 0)": the channels whose features never vary, a cause of a singular covariance.</summary>
    private static string ConstantChannels(Tensor covariance, long channels)
    {
        var largestVariance = covariance.diagonal().view(channels, -1).amax([1L]).cpu().data<double>().ToArray();
        var constant = Enumerable.Range(0, largestVariance.Length).Where(c => largestVariance[c] == 0).ToList();
        return constant.Count == 0 ? "" : $": {string.Join(", ", constant.Select(c => $"channel {c}"))} of the training images never varies";
    }

    /// <summary>Mean of the (layer-normed) training features, in float64.</summary>
    private static Tensor FeatureMean(Tensor flat, bool layerNorm)
    {
        var sum = zeros(flat.shape[1], dtype: ScalarType.Float64, device: flat.device);
        ForEachChunk(flat, layerNorm, part => sum.add_(part.sum([0L]), HeldScalars.One));
        using var count = ((double)flat.shape[0]).ToScalar(); // held for the native call (see HeldScalars)
        return sum.div(count);
    }

    /// <summary>Population covariance Σ (x − μ)ᵀ(x − μ) / N, accumulated chunk by chunk in float64.</summary>
    private static Tensor Covariance(Tensor flat, Tensor mean, bool layerNorm)
    {
        var d = flat.shape[1];
        var sum = zeros([d, d], dtype: ScalarType.Float64, device: flat.device);
        ForEachChunk(flat, layerNorm, part =>
        {
            var centred = part - mean;
            sum.addmm_(centred.T, centred);
        });
        using var count = ((double)flat.shape[0]).ToScalar(); // held for the native call (see HeldScalars)
        return sum.div_(count);
    }

    /// <summary>Runs <paramref name="accumulate"/> on float64 (layer-normed) copies of row chunks.</summary>
    private static void ForEachChunk(Tensor flat, bool layerNorm, Action<Tensor> accumulate) =>
        FittingImages.ForEachFloat64Chunk(flat, Chunk, part => accumulate(layerNorm ? ZcaTransform.LayerNorm(part) : part));
}
