using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;

namespace DistilleryPlugin1;

/// <summary>
/// A kernel: the Gaussian (RBF) kernel on pixels, k(x, x′) = exp(−‖x − x′‖² / (2 ℓ² d)), with d = C·H·W the pixel
/// count, so that ℓ is a length scale per pixel (as Σ = x·x′ / d normalises the neural kernels). KIP, Label Solve
/// and the <c>krr</c> evaluator use whatever kernel the manifest names; the host calls <see cref="Create"/> once per run.
/// </summary>
[ExportKernel("plugin-name-here", Description = "Gaussian (RBF) kernel on pixels: exp(-|x - x'|^2 / (2 lengthScale^2 d)).")]
public sealed class GaussianKernel : IKernelProvider<GaussianKernelOptions>
{
    /// <summary>The kernel function for this run; it holds no tensors, so nothing needs disposing.</summary>
    /// <param name="run">The run (device, dtype, seed); a deterministic kernel like this one needs none of it.</param>
    /// <param name="options">The manifest's <c>kernel.options</c>, already validated.</param>
    public IKernelFunction Create(RunContext run, GaussianKernelOptions options) => new GaussianKernelFunction(options.LengthScale);
}
