using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Kernels.RandomFeatures;
using Distillery.Kip;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using static Distillery.Tests.RandomFeatures.RandomFeatureTestSupport;
using Distillery.Tests.Methods;
using static TorchSharp.torch;

namespace Distillery.Tests.RandomFeatures;

/// <summary>FeatureCache: cached rows are the fresh features, a redraw invalidates them, and KIP with the cache is KIP without it.</summary>
public sealed class FeatureCacheTests
{
    [Theory]
    [InlineData(FeatureCacheStorage.Full, 0.0)]
    [InlineData(FeatureCacheStorage.Float16, 2e-3)]
    [InlineData(FeatureCacheStorage.Bfloat16, 1.6e-2)]
    public void Cached_rows_equal_freshly_computed_features(FeatureCacheStorage storage, double relativeTolerance)
    {
        using var scope = NewDisposeScope();
        var options = Small(RedrawMode.Fixed);
        options.FeatureCache = storage;
        var kernel = (IFeatureMapKernel)Create(options);
        var images = RandomImages(6, 23, 1, 8);
        using var cache = new FeatureCache(kernel, images, float64, chunkSize: 4);
        var indices = tensor(new long[] { 22, 0, 5, 5, 17 });

        var rows = cache.Rows(indices);
        var fresh = kernel.Features(images.index_select(0, indices));
        rows.dtype.Should().Be(float64);
        var error = rows.sub(fresh).abs().max().item<double>() / fresh.abs().max().item<double>();
        error.Should().BeLessThanOrEqualTo(relativeTolerance == 0 ? 1e-12 : relativeTolerance);
        cache.Slice(3, 4).sub(kernel.Features(images.narrow(0, 3, 4))).abs().max().item<double>()
            .Should().BeLessThanOrEqualTo(relativeTolerance == 0 ? 1e-12 : relativeTolerance * fresh.abs().max().item<double>());
        cache.Fills.Should().Be(1, "the whole set is computed once and then only read");
    }

    [Fact]
    public void A_redraw_invalidates_the_cache_and_a_fixed_draw_does_not()
    {
        using var scope = NewDisposeScope();
        var images = RandomImages(7, 10, 1, 8);
        var indices = arange(10, dtype: int64);
        var perStep = (IRedrawableKernel)Create(Small(RedrawMode.PerStep));
        using var cache = new FeatureCache((IFeatureMapKernel)perStep, images, float64);
        var initial = cache.Rows(indices);
        using (var generator = Run().CreateGenerator("kip.kernel", 1)) perStep.Redraw(generator);
        cache.IsCurrent.Should().BeFalse("the networks changed");
        var redrawn = cache.Rows(indices);
        cache.Fills.Should().Be(2);
        BitIdentical(redrawn, ((IFeatureMapKernel)perStep).Features(images)).Should().BeTrue();
        BitIdentical(redrawn, initial).Should().BeFalse();

        var fixedKernel = (IRedrawableKernel)Create(Small(RedrawMode.Fixed));
        ((IFeatureMapKernel)fixedKernel).FixedAcrossSteps.Should().BeTrue();
        using var fixedCache = new FeatureCache((IFeatureMapKernel)fixedKernel, images, float64);
        fixedCache.Rows(indices);
        using (var generator = Run().CreateGenerator("kip.kernel", 1)) fixedKernel.Redraw(generator);
        fixedCache.IsCurrent.Should().BeTrue("a fixed draw ignores redraws");
        fixedCache.Rows(indices);
        fixedCache.Fills.Should().Be(1);
    }

    [Fact]
    public void Kip_loss_from_cached_target_rows_equals_the_loss_through_the_kernel()
    {
        using var scope = NewDisposeScope();
        var kernel = (IFeatureMapKernel)Create(Small(RedrawMode.Fixed));
        var train = RandomImages(8, 40, 1, 8);
        var trainTargets = eye(4, dtype: float64).index_select(0, arange(40, dtype: int64) % 4);
        var support = RandomImages(9, 8, 1, 8).requires_grad_(true);
        var supportTargets = eye(4, dtype: float64).index_select(0, arange(8, dtype: int64) % 4);
        var batch = tensor(new long[] { 3, 9, 14, 21, 22, 30, 39, 0, 11 });
        using var cache = new FeatureCache(kernel, train, float64, chunkSize: 7);

        var direct = KipLoss.Compute(kernel, support, supportTargets, train.index_select(0, batch), trainTargets.index_select(0, batch), 1e-6);
        var (kss, kts) = KipKernelMatrices.Compute(kernel, cache, support, train.index_select(0, batch), batch);
        var cached = KipLoss.Compute(kss, kts, supportTargets, trainTargets.index_select(0, batch), 1e-6);

        cached.item<double>().Should().BeApproximately(direct.item<double>(), 1e-12 * Math.Abs(direct.item<double>()) + 1e-15);
        var gradientDirect = autograd.grad([direct], [support])[0];
        var gradientCached = autograd.grad([cached], [support])[0];
        gradientCached.allclose(gradientDirect, rtol: 1e-9, atol: 1e-12).Should().BeTrue("the support's gradient flows the same way");
    }

    [Fact]
    public void Kip_with_a_fixed_draw_resumes_bit_identically_with_its_cache()
    {
        using var scope = NewDisposeScope();
        // float64: on some CPUs libtorch 2.10's float32 backward through these width-8 networks returns NaN at random
        // (README "Random NaN gradients on some CPUs"); resume, not float32 numerics, is what this test is about.
        var train = MethodTestSupport.ClusteredImages(new Random(3), 3, 12, [1, 8, 8], noise: 1.0, float64);
        var options = new KipOptions { ImagesPerClass = 2, Steps = 6, LearningRate = 0.04, TargetBatchSize = 30, EvaluationInterval = 0, CheckpointInterval = 0 };
        var kernelOptions = new ConvNetRandomFeaturesOptions { Models = 2, Width = 8, Depth = 2, Redraw = RedrawMode.Fixed };
        DistillationContext Context(ICheckpointStore store, IProgressReporter? progress = null, CancellationToken cancellation = default)
        {
            var run = new RunContext { Device = CPU, DType = float64, Seed = 4, Logger = NullLogger.Instance };
            return new DistillationContext
            {
                Device = CPU, DType = float64, Seed = 4, Logger = NullLogger.Instance, Train = train, Checkpoints = store,
                Kernel = new ConvNetRandomFeaturesKernel().Create(run, kernelOptions), Progress = progress ?? NullProgressReporter.Instance,
                Cancellation = cancellation,
            };
        }
        var uninterrupted = new KipAlgorithm().Distill(Context(new InMemoryCheckpointStore()), options);

        var store = new InMemoryCheckpointStore();
        using var cancellation = new CancellationTokenSource();
        var act = () => new KipAlgorithm().Distill(Context(store, new CancelAt(3, cancellation), cancellation.Token), options);
        act.Should().Throw<OperationCanceledException>();
        var resumed = new KipAlgorithm().Distill(Context(store), options);

        BitIdentical(resumed.Images, uninterrupted.Images).Should().BeTrue("the resumed run refills the cache exactly as the first run filled it");
    }

    private sealed class CancelAt(long step, CancellationTokenSource source) : IProgressReporter
    {
        public void Start(string phase, long totalSteps, long firstStep = 0) { }
        public void Report(ProgressUpdate update) { if (update.Step == step) source.Cancel(); }
    }
}
