using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// The mean embedding of each class's images — the statistic Distribution Matching (Zhao &amp; Bilen, WACV 2023) matches
/// between real and synthetic batches: row c is (1/m) Σᵢ embed(x_{c,i}) over the m images of class c.
/// </summary>
public static class ClassEmbeddingMeans
{
    /// <summary>
    /// The per-class means of <paramref name="embed"/> over <paramref name="images"/>, grouped by class in equal counts.
    /// Each class goes through the embedding on its own, in its own dispose scope: under <c>no_grad</c> only one class's
    /// activations are alive at a time (a network without batch statistics embeds each image independently, so this is
    /// the same as one pass over the whole batch).
    /// </summary>
    /// <param name="embed">Images [k, C, H, W] → embeddings [k, d] (any function; differentiable when autograd is on).</param>
    /// <param name="images">[classCount·m, C, H, W]: m images of class 0, then m of class 1, …; not changed.</param>
    /// <param name="classCount">The number of classes, ≥ 1; must divide the number of images.</param>
    /// <returns>A new tensor [classCount, d] in the embedding's dtype and device, owned by the caller (it lands in the
    /// caller's dispose scope); differentiable in <paramref name="images"/> when autograd is on.</returns>
    /// <exception cref="ArgumentException">The images do not split into <paramref name="classCount"/> equal groups.</exception>
    public static Tensor Compute(Func<Tensor, Tensor> embed, Tensor images, int classCount)
    {
        var count = images.shape[0];
        if (classCount < 1 || count == 0 || count % classCount != 0)
            throw new ArgumentException($"{count} images do not split into {classCount} equal classes", nameof(images));
        var perClass = count / classCount;
        var means = new Tensor[classCount];
        for (var c = 0; c < classCount; c++)
        {
            using var scope = NewDisposeScope();
            var embedding = embed(images.narrow(0, c * perClass, perClass));
            means[c] = embedding.reshape(perClass, -1).mean([0]).MoveToOuterDisposeScope();
        }
        try
        {
            return stack(means);
        }
        finally
        {
            foreach (var mean in means) mean.Dispose();
        }
    }
}
