using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Distillery.Tests.Contract;

/// <summary>
/// The plugin author's guide (src/Abstractions/README.md, shipped in the package) shows one plugin of each kind. They
/// must compile against this contract and follow its rules: here they are compiled from the README's text and run
/// together as a run would — including a cancelled and resumed distillation, which must end exactly where an
/// uninterrupted one does.
/// </summary>
public sealed class GuideSketchTests
{
    private static readonly Lazy<Assembly> Sketches = new(CompileSketches);

    /// <summary>The README's C# blocks, compiled into one assembly with the usings the guide names and the csproj's implicit ones.</summary>
    private static Assembly CompileSketches()
    {
        var readme = File.ReadAllText(Path.Combine(DistilleryProcess.RepositoryRoot, "src", "Abstractions", "README.md"));
        var blocks = Regex.Matches(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        blocks.Should().HaveCountGreaterThanOrEqualTo(5, "the guide shows a plugin of each kind");
        const string usings = """
            global using System;
            global using System.Collections.Generic;
            global using System.IO;
            global using System.Linq;
            global using System.Threading;
            global using System.ComponentModel;
            global using System.ComponentModel.DataAnnotations;
            global using Distillery.Abstractions;
            global using Distillery.Abstractions.Augmentation;
            global using Distillery.Abstractions.Data;
            global using Distillery.Abstractions.Numerics;
            global using Distillery.Abstractions.Plugins;
            global using Distillery.Abstractions.Runs;
            global using TorchSharp;
            global using static TorchSharp.torch;
            """;
        var trees = new[] { usings }.Concat(blocks.Select(b => "namespace GuideSketches;\n" + b))
            .Select(text => CSharpSyntaxTree.ParseText(text, new CSharpParseOptions(LanguageVersion.Latest)));
        var platform = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        var references = platform.Concat([typeof(IPlugin).Assembly.Location, typeof(TorchSharp.torch).Assembly.Location,
                                          typeof(System.Composition.ExportAttribute).Assembly.Location, typeof(NullLogger).Assembly.Location])
            .Distinct().Select(path => MetadataReference.CreateFromFile(path));
        var compilation = CSharpCompilation.Create("GuideSketches", trees, references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                // As the SDK does: assembly-version unification notes and unsigned references are not findings.
                .WithSpecificDiagnosticOptions(new[] { "CS1701", "CS1702", "CS8002" }.ToDictionary(id => id, _ => ReportDiagnostic.Suppress)));
        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        result.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning).Select(d => d.ToString())
            .Should().BeEmpty("the guide's sketches should compile cleanly against the contract");
        image.Position = 0;
        return AssemblyLoadContext.Default.LoadFromStream(image);
    }

    /// <summary>The plugin exported under <paramref name="name"/> with the given contract, created as MEF would.</summary>
    private static TContract Plugin<TContract>(string name) where TContract : IPlugin
    {
        var type = Sketches.Value.GetTypes().Single(t => typeof(TContract).IsAssignableFrom(t) &&
            t.GetCustomAttributes().Any(a => a.GetType().GetProperty("Name")?.GetValue(a) as string == name));
        return (TContract)Activator.CreateInstance(type)!;
    }

    /// <summary>A plugin's options with its defaults, then <paramref name="values"/> set by property name.</summary>
    private static object Options(IPlugin plugin, params (string Name, object Value)[] values)
    {
        var options = Activator.CreateInstance(plugin.OptionsType)!;
        foreach (var (name, value) in values) plugin.OptionsType.GetProperty(name)!.SetValue(options, value);
        return options;
    }

    private static RunContext Run(long seed = 3) => new() { Device = CPU, DType = ScalarType.Float32, Seed = seed, Logger = NullLogger.Instance };

    [Fact]
    public void The_guides_plugins_compile_and_run_together_as_a_run_composes_them()
    {
        var dataset = Plugin<IDatasetLoader>("noise");
        var splits = dataset.Load(Run(), Options(dataset));
        splits.Train.Images.shape.Should().Equal(200, 1, 8, 8);
        splits.Test.Labels.dtype.Should().Be(ScalarType.Int64);
        splits.Train.Images.min().ToDouble().Should().BeGreaterThanOrEqualTo(0);
        splits.Train.Images.max().ToDouble().Should().BeLessThan(1);

        var preprocessor = Plugin<IPreprocessor>("center");
        var transform = preprocessor.Fit(Run(), splits.Train.Images, Options(preprocessor));
        var train = splits.Train with { Images = transform.Forward(splits.Train.Images) };
        var test = splits.Test with { Images = transform.Forward(splits.Test.Images) };
        train.Images.mean().ToDouble().Should().BeApproximately(0, 1e-6, "centring removes the mean training image");
        transform.Inverse(train.Images).allclose(splits.Train.Images, rtol: 0, atol: 1e-6).Should().BeTrue();

        var kernel = Plugin<IKernelProvider>("linear").Create(Run(), Options(Plugin<IKernelProvider>("linear")));
        var algorithm = Plugin<IAlgorithm>("kip-sgd");
        var evaluator = Plugin<IEvaluator>("nearest");
        var support = algorithm.Distill(Distillation(train, kernel, test, evaluator, NullCheckpointStore.Instance, CancellationToken.None),
                                        Options(algorithm, ("Steps", 6), ("TargetsPerClass", 10), ("ImagesPerClass", 2)));
        support.Images.shape.Should().Equal(8, 1, 8, 8);
        support.Targets.shape.Should().Equal(8, 4);

        var figures = evaluator.Evaluate(Evaluation(support, test, kernel), Options(evaluator));
        figures["testCount"].Should().Be(80);
        figures["testAccuracy"].Should().BeInRange(0.25, 1, "noise whose brightness gives the class is easy for the nearest support image");
    }

    [Fact]
    public void The_guides_algorithm_cancelled_with_a_checkpoint_and_resumed_ends_exactly_where_an_uninterrupted_run_does()
    {
        var dataset = Plugin<IDatasetLoader>("noise");
        var splits = dataset.Load(Run(), Options(dataset));
        var kernel = Plugin<IKernelProvider>("linear").Create(Run(), Options(Plugin<IKernelProvider>("linear")));
        var algorithm = Plugin<IAlgorithm>("kip-sgd");
        var evaluator = Plugin<IEvaluator>("nearest");
        var options = Options(algorithm, ("Steps", 9), ("TargetsPerClass", 10), ("ImagesPerClass", 2),
                              ("CheckpointInterval", 100), ("EvaluationInterval", 4));
        var uninterrupted = algorithm.Distill(Distillation(splits.Train, kernel, splits.Test, evaluator, NullCheckpointStore.Instance, CancellationToken.None), options);

        var store = new MemoryCheckpointStore();
        using var stop = new CancellationTokenSource();
        var cancelled = Distillation(splits.Train, kernel, splits.Test, evaluator, store, stop.Token,
                                     new CancelAtStep(5, stop));
        var interrupt = () => algorithm.Distill(cancelled, options);
        interrupt.Should().Throw<OperationCanceledException>();
        store.Latest!.Step.Should().Be(5, "the algorithm saves the finished steps before it throws");

        var resumed = algorithm.Distill(Distillation(splits.Train, kernel, splits.Test, evaluator, store, CancellationToken.None), options);
        resumed.Images.eq(uninterrupted.Images).all().item<bool>().Should().BeTrue("a resumed run draws what an uninterrupted one did, bit for bit");
        store.Latest!.Step.Should().Be(9);
    }

    [Fact]
    public void The_guides_siamese_augmentation_sketch_augments_both_batches_alike_and_reaches_the_synthetic_images()
    {
        using var scope = NewDisposeScope();
        var sketch = Sketches.Value.GetType("GuideSketches.SiameseAugmentationSketch")!.GetMethod("MatchingLoss")!;
        Tensor Loss(Tensor real, Tensor synthetic, long step) =>
            (Tensor)sketch.Invoke(null, [Run(), step, (Func<Tensor, Tensor>)(x => x.flatten(1)), real, synthetic])!;
        var real = randn([7, 1, 8, 8], generator: new Generator(1));

        // One draw for both batches: equal batches give equal embeddings at every step, whatever family it drew.
        for (var step = 0; step < 12; step++) Loss(real, real.clone(), step).item<float>().Should().Be(0);
        var synthetic = real.narrow(0, 0, 3).clone().requires_grad_(true);
        Loss(real, synthetic, step: 0).backward();
        synthetic.grad!.abs().sum().item<float>().Should().BePositive();
    }

    private static DistillationContext Distillation(ImageSet train, IKernelFunction kernel, ImageSet test, IEvaluator evaluator,
                                                    ICheckpointStore checkpoints, CancellationToken cancellation, IProgressReporter? progress = null) => new()
    {
        Device = CPU, DType = ScalarType.Float32, Seed = 3, Logger = NullLogger.Instance, Checkpoints = checkpoints, Cancellation = cancellation,
        Progress = progress ?? NullProgressReporter.Instance, Train = train, Kernel = kernel,
        Evaluate = support => evaluator.Evaluate(Evaluation(support, test, kernel), Activator.CreateInstance(evaluator.OptionsType)!),
    };

    private static EvaluationContext Evaluation(SupportSet support, ImageSet test, IKernelFunction kernel) => new()
    {
        Device = CPU, DType = ScalarType.Float32, Seed = 3, Logger = NullLogger.Instance, Support = support, Test = test, Kernel = kernel,
    };

    /// <summary>Stops the run, as Ctrl+C would, once step <paramref name="step"/> is reported.</summary>
    private sealed class CancelAtStep(long step, CancellationTokenSource stop) : IProgressReporter
    {
        public void Start(string phase, long totalSteps, long firstStep = 0) { }
        public void Report(ProgressUpdate update)
        {
            if (update.Step == step) stop.Cancel();
        }
    }

    /// <summary>Keeps the latest checkpoint in memory, as copies (the store must not keep the caller's tensors).</summary>
    private sealed class MemoryCheckpointStore : ICheckpointStore
    {
        public Checkpoint? Latest { get; private set; }
        public void Save(long step, IReadOnlyDictionary<string, Tensor> tensors) =>
            Latest = new Checkpoint(step, tensors.ToDictionary(t => t.Key, t => t.Value.detach().cpu().clone()));
        public Checkpoint? LoadLatest() => Latest is null ? null : new Checkpoint(Latest.Step, Latest.Tensors.ToDictionary(t => t.Key, t => t.Value.clone()));
    }
}
