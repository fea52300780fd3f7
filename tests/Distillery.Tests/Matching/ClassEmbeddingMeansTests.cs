using Distillery.Matching;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Matching;

/// <summary>DM's per-class mean embeddings against a direct loop over the classes and their images, one image at a time.</summary>
public sealed class ClassEmbeddingMeansTests
{
    [Fact]
    public void Each_row_is_the_mean_of_its_class_images_embedded_one_by_one()
    {
        using var scope = NewDisposeScope();
        var random = new Random(11);
        const int classes = 3, perClass = 4;
        var filters = RandomTensor(random, float64, 5, 2, 3, 3);
        var filterBias = RandomTensor(random, float64, 5);
        // A small conv embedding, the shape of the matching ConvNet's.
        Tensor Embed(Tensor x) =>
            nn.functional.avg_pool2d(nn.functional.conv2d(x, filters, filterBias, padding: [1, 1]).tanh(), [2, 2]).flatten(1);
        var images = RandomTensor(random, float64, classes * perClass, 2, 6, 6);

        var means = ClassEmbeddingMeans.Compute(Embed, images, classes);

        means.shape.Should().Equal(classes, 5 * 3 * 3);
        for (var c = 0; c < classes; c++)
        {
            var expected = new double[45];
            for (var i = 0; i < perClass; i++)
            {
                var one = Values(Embed(images[c * perClass + i].unsqueeze(0)));
                for (var k = 0; k < expected.Length; k++) expected[k] += one[k] / perClass;
            }
            var actual = Values(means[c]);
            for (var k = 0; k < expected.Length; k++) actual[k].Should().BeApproximately(expected[k], 1e-12, $"class {c}, feature {k}");
        }
    }

    [Fact]
    public void The_means_carry_the_gradient_to_the_images_and_an_uneven_batch_is_refused()
    {
        using var scope = NewDisposeScope();
        var images = tensor(new[] { 1.0, 2.0, 3.0, 5.0 }, dtype: float64).reshape(4, 1, 1, 1).requires_grad_(true);

        var means = ClassEmbeddingMeans.Compute(x => x.mul(x).flatten(1), images, 2); // embeddings x², class means
        Values(means).Should().Equal(2.5, 17.0);
        var gradient = autograd.grad([means.sum()], [images])[0];
        Values(gradient).Should().Equal(1.0, 2.0, 3.0, 5.0); // ∂(x²/2)/∂x = x

        var act = () => ClassEmbeddingMeans.Compute(x => x.flatten(1), images.detach(), 3);
        act.Should().Throw<ArgumentException>();
    }
}
