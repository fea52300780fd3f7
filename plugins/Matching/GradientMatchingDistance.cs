using Distillery.Abstractions.Numerics;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// The layer-wise gradient distance of Dataset Condensation (Zhao, Mopuri &amp; Bilen, ICLR 2021, eq. 6; the code's
/// <c>match_loss</c> "ours"): for each parameter tensor, both gradients are read as matrices [out, rest] — a
/// convolution's [out, in·h·w], a dense layer's [out, in] as it is — and every output row contributes one minus the
/// cosine of its two rows, 1 − ⟨a, b⟩ / (‖a‖·‖b‖ + 10⁻⁶); one-dimensional tensors (biases, norm scales and shifts)
/// contribute nothing. The distance is the sum over all rows of all tensors.
/// </summary>
public static class GradientMatchingDistance
{
    /// <summary>Added to the product of the norms, so an all-zero row gives a term of 1 rather than 0/0 (DC's 0.000001).</summary>
    public const double Epsilon = 1e-6;

    /// <summary>
    /// The distance between two gradients of the same parameters, differentiable in both (gradients reach the synthetic
    /// images through <paramref name="synthetic"/> when it was computed with <c>create_graph</c>).
    /// </summary>
    /// <param name="real">The gradient of the loss on real images, one tensor per parameter (any shapes; usually detached).</param>
    /// <param name="synthetic">The gradient on synthetic images: the same count, shapes, dtype and device, in the same order.</param>
    /// <returns>A new 0-dimensional tensor in the gradients' dtype and device, ≥ 0 (each row's term lies in [0, 2]); the
    /// caller owns it. 0 (of the first gradient's dtype) when every tensor is one-dimensional.</returns>
    /// <exception cref="ArgumentException">The lists differ in length, or two paired tensors differ in shape.</exception>
    public static Tensor Compute(IReadOnlyList<Tensor> real, IReadOnlyList<Tensor> synthetic)
    {
        if (real.Count != synthetic.Count)
            throw new ArgumentException($"{real.Count} real gradients but {synthetic.Count} synthetic ones", nameof(synthetic));
        if (real.Count == 0) throw new ArgumentException("no gradients to compare", nameof(real));
        using var epsilon = Epsilon.ToScalar(); // held for the native calls (see HeldScalars)
        Tensor? total = null;
        for (var i = 0; i < real.Count; i++)
        {
            if (!real[i].shape.SequenceEqual(synthetic[i].shape))
                throw new ArgumentException($"gradient {i}: real [{string.Join(", ", real[i].shape)}] but synthetic [{string.Join(", ", synthetic[i].shape)}]", nameof(synthetic));
            if (real[i].dim() < 2) continue;
            var rows = real[i].shape[0];
            var a = real[i].reshape(rows, -1);
            var b = synthetic[i].reshape(rows, -1);
            var cosines = a.mul(b).sum(1).div(a.norm(1).mul(b.norm(1)).add(epsilon, HeldScalars.One));
            using var rowCount = ((double)rows).ToScalar();
            var term = cosines.sum().neg().add(rowCount, HeldScalars.One); // Σ_rows (1 − cos) = rows − Σ cos
            total = total is null ? term : total.add(term, HeldScalars.One);
        }
        return total ?? zeros(Array.Empty<long>(), dtype: real[0].dtype, device: real[0].device);
    }
}
