using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Numerics;
using Distillery.Abstractions.Runs;
using Distillery.Evaluation.Transfer;
using Distillery.Kernels;
using Distillery.Kip;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static Distillery.Tests.Methods.MethodTestSupport;
using static TorchSharp.torch;

namespace Distillery.Tests.Numerics;

/// <summary>
/// Issue 13, kind 5 ("Unknown scalar type" at random in long runs): no Distillery code hands libtorch a native Scalar
/// that nothing keeps alive (read from the IL, so it cannot regress unseen), and KIP under forced garbage collections
/// gives exactly the numbers it gives without (the short form of benchmarks/ScalarLifetimeStress).
/// </summary>
public sealed class NativeScalarTests(ITestOutputHelper output)
{
    private static readonly string[] Assemblies =
    [
        "Distillery.Abstractions", "Distillery.Kernels", "Distillery.Kip", "Distillery.LabelSolve",
        "Distillery.Evaluation", "Distillery.Baselines", "Distillery.Datasets", "Distillery.Matching", "distillery",
    ];

    [Fact]
    public void No_distillery_code_hands_libtorch_a_scalar_that_nothing_keeps_alive()
    {
        var folder = AppContext.BaseDirectory;
        using var scanner = new ScalarTemporaryScanner(folder);
        var offences = Assemblies.SelectMany(a => scanner.Offences(Path.Combine(folder, a + ".dll"))).ToList();
        foreach (var offence in offences) output.WriteLine(offence);
        offences.Should().BeEmpty();
    }

    [Theory]
    [InlineData(TransferNetwork.Fc, TransferNorm.None, Parameterization.Standard, false)]
    [InlineData(TransferNetwork.Convnet, TransferNorm.Instance, Parameterization.Standard, false)]
    [InlineData(TransferNetwork.Convnet, TransferNorm.None, Parameterization.Standard, false)]
    [InlineData(TransferNetwork.Fc, TransferNorm.None, Parameterization.Ntk, true)]
    [InlineData(TransferNetwork.Convnet, TransferNorm.None, Parameterization.Ntk, true)]
    public void The_layers_of_every_transfer_network_pass_libtorch_no_unheld_scalar(TransferNetwork network, TransferNorm norm,
                                                                                   Parameterization parameterization, bool centred)
    {
        using var scanner = new ScalarTemporaryScanner(AppContext.BaseDirectory);
        var options = new TransferOptions { Network = network, Parameterization = parameterization, Norm = norm, Width = 8, Depth = 2 };
        nn.Module<Tensor, Tensor> Create() => TransferNetworks.Create(options, [1, 1, 8, 8], 3, generator: null);
        using var model = centred ? new CentredNetwork(Create(), Create()) : Create();
        var types = model.modules().Select(m => m.GetType()).Append(model.GetType()).Distinct().ToList();

        types.Where(scanner.ForwardMakesTemporary).Should().BeEmpty();
        types.Count.Should().BeGreaterThan(2);
    }

    [Fact]
    public void The_scanner_sees_the_code_that_failed_and_the_hidden_temporaries_of_torchsharp()
    {
        var folder = AppContext.BaseDirectory;
        using var scanner = new ScalarTemporaryScanner(folder);
        var prefix = typeof(ScalarPatterns).FullName + ".";
        var offences = scanner.Offences(typeof(ScalarPatterns).Assembly.Location)
            .Where(o => o.StartsWith(prefix, StringComparison.Ordinal)).Select(o => o[prefix.Length..]).ToList();

        offences.Should().BeEquivalentTo(
            "DenseBeforeTheFix → Tensor.op_Multiply", "DenseBeforeTheFix → Tensor.op_Addition",
            "Square → Tensor.square", "SumOfTensors → Tensor.op_Addition", "UnstoredScalar → ScalarExtensionMethods.ToScalar",
            "ImplicitScalar → Scalar.op_Implicit");
    }

    [Fact]
    public void Kip_under_forced_garbage_collections_gives_the_same_numbers_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var train = ClusteredImages(new Random(8), 3, 40, [1, 6, 6], noise: 0.5);
        var reference = KipLosses(train);

        List<double> stressed;
        long collections;
        using (var pressure = new GcPressure(burners: 0)) // the long run (benchmarks/ScalarLifetimeStress) adds CPU burners
        {
            stressed = KipLosses(train);
            collections = pressure.Collections;
        }

        output.WriteLine($"{stressed.Count} KIP steps under {collections} forced collections");
        collections.Should().BePositive();
        stressed.Should().Equal(reference);
    }

    /// <summary>Every step's loss of a small KIP run (FC NTK, 6 support images, target batch 30, 80 steps: under a second on an idle machine).</summary>
    private static List<double> KipLosses(ImageSet train)
    {
        var losses = new LossRecorder();
        new KipAlgorithm().Distill(new DistillationContext
        {
            Device = CPU, DType = ScalarType.Float64, Seed = 4, Logger = NullLogger.Instance, Progress = losses,
            Train = train, Kernel = FullyConnectedKernel.Build(new FullyConnectedKernelOptions { Depth = 2 }),
        }, new KipOptions { ImagesPerClass = 2, Steps = 80, TargetBatchSize = 30, LearningRate = 0.01, EvaluationInterval = 0, CheckpointInterval = 0 });
        return losses.Losses;
    }

    private sealed class LossRecorder : IProgressReporter
    {
        public List<double> Losses { get; } = [];
        public void Start(string phase, long totalSteps, long firstStep = 0) { }
        public void Report(ProgressUpdate update) { if (update.Loss is { } loss) Losses.Add(loss); }
    }
}

/// <summary>
/// What the scanner must flag (and must not): the pre-fix arithmetic of Dense.Apply, TorchSharp operators that make
/// Scalars inside, and the held form used since. Compiled here only to be read as IL.
/// </summary>
internal static class ScalarPatterns
{
    public static Tensor DenseBeforeTheFix(Tensor x, double w, double b) => x * w + b;
    public static Tensor Square(Tensor x) => x.square();
    public static Tensor SumOfTensors(Tensor a, Tensor b) => a + b;
    public static Tensor UnstoredScalar(Tensor x) => x.mul(2.0.ToScalar());
    public static Tensor ImplicitScalar(Tensor x) => x.mul_((Scalar)3.0);

    public static Tensor Held(Tensor x, double w)
    {
        using var weight = w.ToScalar();
        return x.mul(weight).add(x, HeldScalars.One);
    }
}
