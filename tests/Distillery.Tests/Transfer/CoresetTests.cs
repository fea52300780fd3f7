using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Baselines;
using Distillery.Baselines.Coresets;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.Transfer.TransferTestData;
using static TorchSharp.torch;

namespace Distillery.Tests.Transfer;

[Collection(TransferCollection.Name)]
public sealed class CoresetTests
{
    // Six 2-D points (as 1×1×2 images) at known positions.
    private static readonly double[][] Points = [[0, 0], [10, 0], [0, 7], [3, 3], [9, 9], [5, 0]];

    [Fact]
    public void KCenter_greedy_follows_the_farthest_point_sequence()
    {
        // From (0,0): (9,9) is farthest (162); then (10,0) (min 82 vs 49, 25, 18); then (0,7) (49); then (5,0)
        // (25 vs 18); then (3,3).
        using var points = tensor(Points.SelectMany(p => p).ToArray()).reshape(6, 2);
        KCenterGreedy.Select(points, 6, first: 0).Should().Equal(0, 4, 1, 2, 5, 3);
        FarthestPointReference(Points, 6, first: 3).Should().Equal(KCenterGreedy.Select(points, 6, first: 3));
    }

    [Fact]
    public void KCenter_never_repeats_duplicate_points()
    {
        using var points = zeros(4, 3);
        KCenterGreedy.Select(points, 4, first: 2).Should().BeEquivalentTo(new long[] { 0, 1, 2, 3 });
    }

    [Fact]
    public void KCenter_plugin_picks_the_farthest_point_sequence_from_its_random_first_centre()
    {
        // Class 0 holds the six known points, class 1 the same points shifted; interleaved labels.
        var train = TwoClassesOfKnownPoints();
        var support = new KCenterCoreset().Distill(Distillation(train), new CoresetOptions { ImagesPerClass = 4 });

        support.Count.Should().Be(8);
        Values(support.Classes).Should().Equal(0, 0, 0, 0, 1, 1, 1, 1);
        for (var c = 0; c < 2; c++)
        {
            var chosen = Rows(support.Images).Skip(4 * c).Take(4).ToArray();
            var classPoints = Points.Select(p => new[] { p[0] + 100 * c, p[1] }).ToArray();
            var first = Array.FindIndex(classPoints, p => p.SequenceEqual(chosen[0]));
            first.Should().BeGreaterThanOrEqualTo(0);
            var expected = FarthestPointReference(classPoints, 4, first).Select(i => classPoints[i]).ToArray();
            chosen.Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        }
    }

    [Theory]
    [InlineData("kcenter")]
    [InlineData("herding")]
    public void Picks_images_per_class_deterministically_with_one_hot_targets(string algorithm)
    {
        var train = Patterns(perClass: 30, seed: 5);
        var options = new CoresetOptions { ImagesPerClass = 5 };
        var first = Distill(algorithm, train, options, seed: 1);
        var again = Distill(algorithm, train, options, seed: 1);

        first.Count.Should().Be(15);
        Values(first.Classes).Should().Equal(Enumerable.Range(0, 3).SelectMany(c => Enumerable.Repeat((double)c, 5)));
        using var expectedTargets = RegressionTargets.Encode(first.Classes, 3, ScalarType.Float32, CPU);
        first.Targets.equal(expectedTargets).all().item<bool>().Should().BeTrue();
        first.Images.equal(again.Images).all().item<bool>().Should().BeTrue();
        // Every chosen image is a distinct training image of its class.
        var trainRows = Rows(train.Images);
        var trainLabels = Values(train.Labels);
        var matches = Rows(first.Images).Select(r => Array.FindIndex(trainRows, t => t.SequenceEqual(r))).ToArray();
        matches.Should().OnlyHaveUniqueItems().And.NotContain(-1);
        matches.Select(i => trainLabels[i]).Should().Equal(Values(first.Classes));
    }

    [Fact]
    public void Candidate_pool_bounds_the_choice_and_too_few_candidates_is_an_error()
    {
        var train = Patterns(perClass: 30, seed: 5);
        new KCenterCoreset().Distill(Distillation(train), new CoresetOptions { ImagesPerClass = 4, CandidatePoolSize = 8 })
            .Count.Should().Be(12);
        var tooFew = () => new HerdingCoreset().Distill(Distillation(train), new CoresetOptions { ImagesPerClass = 9, CandidatePoolSize = 8 });
        tooFew.Should().Throw<DistilleryException>().WithMessage("*imagesPerClass*");
    }

    [Fact]
    public void Herding_matches_a_brute_force_greedy_reference()
    {
        var random = new Random(9);
        var data = Enumerable.Range(0, 12).Select(_ => Enumerable.Range(0, 5).Select(_ => random.NextDouble() * 4 - 2).ToArray()).ToArray();
        using var points = tensor(data.SelectMany(p => p).ToArray()).reshape(12, 5);
        Herding.Select(points, 7).Should().Equal(HerdingReference(data, 7));

        // 1-D by hand: mean of {0, 1, 2, 10} is 3.25; 2 is nearest it; then (2 + x)/2 is nearest 3.25 for x = 1.
        using var line = tensor(new double[] { 0, 1, 2, 10 }).reshape(4, 1);
        Herding.Select(line, 2).Should().Equal(2, 1);
    }

    [Fact]
    public void Herding_plugin_runs_herding_on_each_class()
    {
        var train = Patterns(perClass: 10, seed: 3);
        var support = new HerdingCoreset().Distill(Distillation(train), new CoresetOptions { ImagesPerClass = 3 });
        var rows = Rows(train.Images);
        var labels = Values(train.Labels);
        for (var c = 0; c < 3; c++)
        {
            var members = rows.Where((_, i) => labels[i] == c).ToArray();
            var expected = HerdingReference(members, 3).Select(i => members[i]).ToArray();
            Rows(support.Images).Skip(3 * c).Take(3).Should().BeEquivalentTo(expected, o => o.WithStrictOrdering());
        }
    }

    private static SupportSet Distill(string algorithm, ImageSet train, CoresetOptions options, long seed) => algorithm switch
    {
        "kcenter" => new KCenterCoreset().Distill(Distillation(train, seed), options),
        _ => new HerdingCoreset().Distill(Distillation(train, seed), options),
    };

    private static ImageSet TwoClassesOfKnownPoints()
    {
        var pixels = new List<float>();
        var labels = new List<long>();
        for (var i = 0; i < Points.Length; i++)
            for (var c = 0; c < 2; c++)
            {
                pixels.Add((float)(Points[i][0] + 100 * c));
                pixels.Add((float)Points[i][1]);
                labels.Add(c);
            }
        return new ImageSet(tensor(pixels.ToArray()).reshape(labels.Count, 1, 1, 2), tensor(labels.ToArray()), ["a", "b"]);
    }

    /// <summary>Farthest-point traversal in plain doubles.</summary>
    private static long[] FarthestPointReference(double[][] points, int count, long first)
    {
        var chosen = new List<long> { first };
        while (chosen.Count < count)
        {
            var best = -1L;
            var bestDistance = double.NegativeInfinity;
            for (var i = 0; i < points.Length; i++)
            {
                if (chosen.Contains(i)) continue;
                var d = chosen.Min(c => SquaredDistance(points[i], points[c]));
                if (d > bestDistance) (best, bestDistance) = (i, d);
            }
            chosen.Add(best);
        }
        return chosen.ToArray();
    }

    /// <summary>Brute force: try every remaining point, keep the one whose running mean is nearest the mean.</summary>
    private static long[] HerdingReference(double[][] points, int count)
    {
        var d = points[0].Length;
        var mean = Enumerable.Range(0, d).Select(j => points.Average(p => p[j])).ToArray();
        var chosen = new List<long>();
        while (chosen.Count < count)
        {
            var best = -1L;
            var bestError = double.PositiveInfinity;
            for (var i = 0; i < points.Length; i++)
            {
                if (chosen.Contains(i)) continue;
                var runningMean = Enumerable.Range(0, d)
                    .Select(j => (chosen.Sum(c => points[c][j]) + points[i][j]) / (chosen.Count + 1)).ToArray();
                var error = SquaredDistance(runningMean, mean);
                if (error < bestError) (best, bestError) = (i, error);
            }
            chosen.Add(best);
        }
        return chosen.ToArray();
    }

    private static double SquaredDistance(double[] a, double[] b) => a.Zip(b, (x, y) => (x - y) * (x - y)).Sum();

    private static double[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();

    private static double[][] Rows(Tensor images)
    {
        var flat = images.flatten(1);
        var values = Values(flat);
        var width = (int)flat.shape[1];
        return Enumerable.Range(0, (int)flat.shape[0]).Select(i => values.Skip(i * width).Take(width).ToArray()).ToArray();
    }
}
