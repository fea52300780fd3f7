using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;

namespace Distillery.Matching;

/// <summary>
/// Dataset Condensation with gradient matching (Zhao, Mopuri &amp; Bilen, "Dataset Condensation with Gradient Matching",
/// ICLR 2021): synthetic images whose network gradients match those of real batches, class by class, along the training
/// of fresh ConvNets. Generator purposes: <c>dc.support-init</c>, <c>(dc.network, iteration)</c>,
/// <c>(dc.real-batch, update)</c>, <c>(dc.inner-order, update)</c> (see <see cref="GradientMatching"/>).
/// </summary>
[ExportAlgorithm("dc", Description = "Dataset Condensation: match the network gradients of synthetic and real batches, class by class (Zhao et al., ICLR 2021).")]
public sealed class DcAlgorithm : IDistillationAlgorithm<DcOptions>
{
    /// <inheritdoc/>
    public SupportSet Distill(DistillationContext run, DcOptions options) => GradientMatching.Distill(run, options, "dc", augmentation: null);
}

/// <summary>
/// Dataset Condensation with Differentiable Siamese Augmentation (Zhao &amp; Bilen, ICML 2021): DC with one shared random
/// transform applied to each class's real and synthetic batches before their gradients are compared, and per-image
/// transforms in the network training. Generator purposes: <c>dsa.support-init</c>, <c>(dsa.network, iteration)</c>,
/// <c>(dsa.real-batch, update)</c>, <c>(dsa.inner-order, update)</c>, <c>(dsa.augment, update)</c>,
/// <c>(dsa.inner-augment, update)</c> (see <see cref="GradientMatching"/>).
/// </summary>
[ExportAlgorithm("dsa", Description = "Dataset Condensation with Differentiable Siamese Augmentation: gradient matching through shared random transforms (Zhao & Bilen, ICML 2021).")]
public sealed class DsaAlgorithm : IDistillationAlgorithm<DsaOptions>
{
    /// <inheritdoc/>
    public SupportSet Distill(DistillationContext run, DsaOptions options) => GradientMatching.Distill(run, options, "dsa", options.ParseAugmentation());
}

/// <summary>
/// Dataset Condensation with Distribution Matching (Zhao &amp; Bilen, WACV 2023): synthetic images whose mean embedding
/// under fresh random ConvNets matches that of real batches, class by class. Generator purposes: <c>dm.support-init</c>,
/// <c>(dm.network, iteration)</c>, <c>(dm.real-batch, iteration)</c>, <c>(dm.augment, iteration)</c> (see
/// <see cref="DistributionMatching"/>).
/// </summary>
[ExportAlgorithm("dm", Description = "Distribution Matching: match the mean embeddings of synthetic and real batches under random ConvNets (Zhao & Bilen, WACV 2023).")]
public sealed class DmAlgorithm : IDistillationAlgorithm<DmOptions>
{
    /// <inheritdoc/>
    public SupportSet Distill(DistillationContext run, DmOptions options) => DistributionMatching.Distill(run, options, options.ParseAugmentation());
}
