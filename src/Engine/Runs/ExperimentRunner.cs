using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Plugins;
using Distillery.Abstractions.Runs;
using Distillery.Engine.Manifests;
using Distillery.Engine.Outputs;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.Engine.Runs;

/// <summary>
/// Runs one planned experiment into one run folder: load the data, fit and apply preprocessing, build the
/// kernel, distil, evaluate, and write the outputs. A folder that already holds this experiment is resumed
/// from its last checkpoint; one whose manifest differs only in its evaluation is resumed and evaluated anew; one
/// that holds a different experiment is refused.
/// </summary>
public sealed class ExperimentRunner(ILogger<ExperimentRunner> logger)
{
    public RunMetrics Run(ExperimentPlan plan, RunFolder folder, IProgressDisplay display, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        // This run's own peak, not an earlier point's of the same sweep (PeakMemory says why, and what happens when refused).
        if (!PeakMemory.Reset()) logger.LogDebug("The peak memory cannot be reset here: peakMemoryBytes will be this process's peak so far");
        var manifest = plan.Manifest;
        var device = DeviceSelector.Resolve(manifest.Device);
        var dtype = DeviceSelector.DType(manifest.DType);
        var (resolvedManifest, held) = InspectFolder(plan, folder);
        if (held == FolderState.SameExperiment && FinishedMetrics(folder) is { } finished)
        {
            logger.LogInformation("{Folder} holds this experiment, already finished: nothing to do (--fresh starts over)", folder.Path);
            return finished;
        }
        manual_seed(manifest.Seed);

        // Everything that can still be refused as invalid input (exit 2) happens before the folder is claimed: data,
        // preprocessing, kernel and evaluators. A refused run thus leaves no manifest.resolved.json behind, and the
        // corrected command is not taken for "a different experiment".
        var setup = new DistillationContextBuilder(device, dtype, manifest.Seed, logger, NullProgressReporter.Instance, cancellation);
        var data = LoadData(plan, setup);
        var kernel = plan.Kernel is not { } kernelChoice ? null
            : kernelChoice.Call(() => kernelChoice.Create<IKernelProvider>().Create(setup.Plain(kernelChoice), kernelChoice.Options));
        var evaluators = plan.Evaluation.Select(e => (Choice: e, Plugin: e.Call(e.Create<IEvaluator>))).ToList();
        ClaimFolder(folder, resolvedManifest, held, data);

        var recorder = RunRecorder.Open(plan, folder, display, logger); // TensorBoard and progress.png
        using var progress = new ProgressLog(folder.ProgressLog, recorder, clock); // goes on from the earlier attempts' time
        // The test features of a fixed kernel draw are computed once and reused by every (periodic) evaluation.
        using var featureCaches = new FeatureCaches();
        var baseContext = new DistillationContextBuilder(device, dtype, manifest.Seed, logger, progress, cancellation, featureCaches);

        // Only the final evaluation reports progress: periodic ones run inside the algorithm's own phase. Figures are
        // keyed by each entry's id (its plugin name unless the manifest gives one), so one evaluator may appear twice.
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> EvaluateAll(SupportSet support, bool final = false)
        {
            using var noGrad = no_grad();
            return evaluators.ToDictionary(e => e.Choice.Id, e =>
            {
                var context = baseContext.ForEvaluation(e.Choice, support, data.Evaluation, kernel, final);
                var figures = e.Choice.Call(() => e.Plugin.Evaluate(context, e.Choice.Options));
                return data.NameFigures(ResultGuards.RequireFiniteFigures(e.Choice.Id, figures));
            });
        }

        logger.LogInformation("Distilling with {Algorithm}", plan.Algorithm.Plugin.Name);
        IReadOnlyDictionary<string, double> EvaluateDuringTraining(SupportSet support)
        {
            ResultGuards.RequireFiniteSupport(plan.Algorithm.Plugin.Name, support);
            WritePreview(folder, support, data); // what the status page shows while a run goes on
            recorder.PreviewWritten(folder.Preview);
            return EvaluateAll(support).SelectMany(e => e.Value.Select(v => KeyValuePair.Create($"{e.Key}.{v.Key}", v.Value))).ToDictionary();
        }
        var distillation = baseContext.ForDistillation(plan.Algorithm, data.Train, kernel, EvaluateDuringTraining, new CheckpointStore(folder.Checkpoints, logger));
        SupportSet supportSet;
        try
        {
            supportSet = plan.Algorithm.Call(() => plan.Algorithm.Create<IAlgorithm>().Distill(distillation, plan.Algorithm.Options));
        }
        catch (DistilleryException) when (held == FolderState.Empty && !folder.HasCheckpoints)
        {
            // The algorithm refused its input before any work was saved (e.g. more images per class than a class
            // holds): give the folder back, so the corrected command starts there as if this one never ran.
            progress.Dispose();
            folder.Release();
            throw;
        }
        ResultGuards.RequireFiniteSupport(plan.Algorithm.Plugin.Name, supportSet);
        recorder.DistillationFinished();

        logger.LogInformation("Evaluating {Count} distilled images", supportSet.Count);
        var evaluations = EvaluateAll(supportSet, final: true);
        WriteDistilledSet(folder, supportSet, data);
        recorder.Finished(evaluations, folder.ImageGrid);

        var metrics = new RunMetrics(evaluations, progress.RunSeconds, PeakMemory.ResidentBytes(), supportSet.Count)
        {
            EvaluatedOn = data.EvaluatedOn,
        };
        metrics.Write(folder.Metrics);
        return metrics;
    }

    /// <summary>The figures of a finished run in this folder; null when it has not finished, or when its metrics.json is damaged (then it is evaluated again).</summary>
    private RunMetrics? FinishedMetrics(RunFolder folder)
    {
        try
        {
            return RunMetrics.TryRead(folder.Metrics);
        }
        catch (DataFormatException e)
        {
            logger.LogWarning("{Problem}; running again to rewrite it: {Start}", e.Message, StartingPoint(folder));
            return null;
        }
    }

    /// <summary>Where an unfinished run in this folder goes on from, for the log: its last checkpoint, or step 0 when it has none.</summary>
    private static string StartingPoint(RunFolder folder) =>
        folder.HasCheckpoints
            ? "resuming from its last checkpoint"
            : $"no checkpoint was found in {folder.Checkpoints}; starting from step 0";

    /// <summary>What a run folder holds, relative to the experiment asked for.</summary>
    private enum FolderState { Empty, SameExperiment, OtherEvaluation }

    /// <summary>
    /// Reads, without changing anything, what the folder holds, comparing experiments by their
    /// <see cref="ExperimentFingerprint"/> (so a folder written before a plugin gained an option still resumes); refuses a
    /// folder that holds a different experiment, naming the first field that differs, or whose manifest.resolved.json is
    /// damaged. Returns the resolved manifest text this run will write when it claims the folder.
    /// </summary>
    private static (string ResolvedManifest, FolderState Held) InspectFolder(ExperimentPlan plan, RunFolder folder)
    {
        var resolved = plan.ToResolvedJson();
        resolved["output"] = new JsonObject { ["directory"] = folder.Path };
        var text = resolved.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        if (!File.Exists(folder.ResolvedManifest)) return (text, FolderState.Empty);
        var held = JsonFile.ParseObject(File.ReadAllText(folder.ResolvedManifest))
            ?? throw new DataFormatException(folder.ResolvedManifest, "damaged: not a JSON object; pass --fresh to start over in this folder");
        var (folderExperiment, wanted) = (ExperimentFingerprint.Of(held, plan), ExperimentFingerprint.Of(plan));
        if (folderExperiment.FirstDifference(wanted) is null) return (text, FolderState.SameExperiment);
        // Evaluators only read the support set (periodic ones draw no training randomness), so when only the evaluation
        // differs the distillation and its checkpoints stay valid.
        if (folderExperiment.FirstDifference(wanted, "evaluation") is not { } difference) return (text, FolderState.OtherEvaluation);
        throw new DistilleryException(
            $"{folder.Path} holds a different experiment ({difference}); choose another --output, or pass --fresh to start over there");
    }

    /// <summary>The run starts: the folder gets its resolved manifest, checkpoint folder and fitted preprocessing.</summary>
    private void ClaimFolder(RunFolder folder, string resolvedManifest, FolderState held, PreparedData data)
    {
        if (held == FolderState.SameExperiment)
        {
            if (!File.Exists(folder.Metrics)) // a damaged one was reported by FinishedMetrics
                logger.LogInformation("Run folder {Folder} holds this experiment: {Start}", folder.Path, StartingPoint(folder));
        }
        else if (held == FolderState.OtherEvaluation)
            StartReEvaluation(folder);
        folder.Create();
        AtomicFile.WriteAllText(folder.ResolvedManifest, resolvedManifest);
        if (data.State.Count > 0) SafeTensorsFile.Write(folder.Preprocessing, data.State);
    }

    /// <summary>The evaluation changed: resume the distillation from its checkpoints and evaluate anew, keeping the old figures.</summary>
    private void StartReEvaluation(RunFolder folder)
    {
        if (File.Exists(folder.Metrics))
            File.Move(folder.Metrics, folder.PreviousMetrics, overwrite: true);
        logger.LogInformation(
            "Run folder {Folder} holds this experiment with another evaluation: {Start}, then evaluating anew (earlier figures moved to {Previous})",
            folder.Path, StartingPoint(folder), Path.GetFileName(folder.PreviousMetrics));
    }

    /// <summary>
    /// The preprocessed splits on the run's device — what the algorithm trains on, and what the evaluators score on:
    /// the test set, or the validation split held out of the training set (<see cref="EvaluatedOn"/>) — the fitted
    /// transforms and their state (saved with the run).
    /// </summary>
    private sealed record PreparedData(ImageSet Train, ImageSet Evaluation, string EvaluatedOn,
                                       IReadOnlyList<IImageTransform> Transforms, IReadOnlyDictionary<string, Tensor> State)
    {
        public Tensor ToPixels(Tensor images) => Transforms.Reverse().Aggregate(images, (x, t) => t.Inverse(x));

        /// <summary>An evaluator's figures under names that say which set they were measured on (see <see cref="ValidationSplit.NameFigures"/>).</summary>
        public IReadOnlyDictionary<string, double> NameFigures(IReadOnlyDictionary<string, double> figures) =>
            EvaluatedOn == RunMetrics.Validation ? ValidationSplit.NameFigures(figures) : figures;
    }

    private PreparedData LoadData(ExperimentPlan plan, DistillationContextBuilder contexts)
    {
        var context = contexts.Plain(plan.Dataset);
        var splits = plan.Dataset.Call(() => plan.Dataset.Create<IDatasetLoader>().Load(context, plan.Dataset.Options));
        logger.LogInformation("Dataset {Name}: {Train} training and {Test} test images of {Classes} classes, {C}×{H}×{W}",
            plan.Dataset.Plugin.Name, splits.Train.Count, splits.Test.Count, splits.Train.ClassCount,
            splits.Train.Channels, splits.Train.Height, splits.Train.Width);

        // The validation split leaves the training set before anything is fitted on it: the algorithm and the
        // preprocessing never see it, and the test set is not used at all.
        var (trainSet, evaluationSet, evaluatedOn) = (splits.Train, splits.Test, RunMetrics.Test);
        if (plan.Manifest.Validation is { } validation)
        {
            (trainSet, evaluationSet) = ValidationSplit.Apply(splits.Train, validation, context);
            evaluatedOn = RunMetrics.Validation;
            logger.LogInformation(
                "Validation split: {Held} of the {Total} training images ({PerClass} per class, drawn with seed {Seed}) held out; " +
                "distillation uses the other {Kept}, and every figure is measured on the split (validation…), not on the test set",
                evaluationSet.Count, splits.Train.Count, evaluationSet.Count / trainSet.ClassCount, context.Seed, trainSet.Count);
        }

        var train = trainSet.Images.to(context.DType);
        var test = evaluationSet.Images.to(context.DType);
        ResultGuards.RequireFiniteImages($"dataset '{plan.Dataset.Plugin.Name}'", "loaded", train, test, "the dataset's files or its loader produce NaN or infinite pixels");
        var transforms = new List<IImageTransform>();
        var state = new Dictionary<string, Tensor>();
        foreach (var (choice, index) in plan.Preprocess.Select((c, i) => (c, i)))
        {
            // Fitted on the training images only, then applied to test exactly as to train.
            var transform = choice.Call(() => choice.Create<IPreprocessor>().Fit(contexts.Plain(choice), train, choice.Options));
            (train, test) = (transform.Forward(train), transform.Forward(test));
            ResultGuards.RequireFiniteImages($"preprocess[{index}] '{choice.Plugin.Name}'", "preprocessed", train, test,
                "check its options (a zero epsilon or regularization divides by zero) and the images it was fitted on");
            transforms.Add(transform);
            foreach (var (name, tensor) in transform.State) state[$"{index}.{choice.Plugin.Name}.{name}"] = tensor;
        }
        return new PreparedData(
            trainSet with { Images = train.to(context.Device), Labels = trainSet.Labels.to(context.Device) },
            evaluationSet with { Images = test.to(context.Device), Labels = evaluationSet.Labels.to(context.Device) },
            evaluatedOn, transforms, state);
    }

    private void WriteDistilledSet(RunFolder folder, SupportSet support, PreparedData data)
    {
        using var scope = NewDisposeScope();
        var pixels = data.ToPixels(support.Images.detach());
        SafeTensorsFile.Write(folder.DistilledSet, new Dictionary<string, Tensor>
        {
            ["images"] = support.Images,
            ["targets"] = support.Targets,
            ["classes"] = support.Classes,
            ["pixels"] = pixels,
        }, new Dictionary<string, string> { ["classNames"] = JsonSerializer.Serialize(data.Train.ClassNames) });
        ImageGridPng.Write(folder.ImageGrid, pixels, support.Classes, data.Train.ClassCount);
        logger.LogInformation("Wrote {Set} and {Grid}", folder.DistilledSet, folder.ImageGrid);
    }

    private static void WritePreview(RunFolder folder, SupportSet support, PreparedData data)
    {
        using var scope = NewDisposeScope();
        ImageGridPng.Write(folder.Preview, data.ToPixels(support.Images.detach()), support.Classes, data.Train.ClassCount);
    }

    /// <summary>
    /// Builds the contexts handed to plugins, all sharing device, dtype, seed, logging and cancellation; each names the
    /// manifest section of the plugin it is handed to (<see cref="RunContext.ManifestSection"/>).
    /// </summary>
    private sealed class DistillationContextBuilder(Device device, ScalarType dtype, long seed, ILogger logger, IProgressReporter progress,
                                                    CancellationToken cancellation, FeatureCaches? featureCaches = null)
    {
        public RunContext Plain(PluginChoice plugin) => new()
        {
            Device = device, DType = dtype, Seed = seed, Logger = logger, Progress = progress, Cancellation = cancellation,
            ManifestSection = plugin.ManifestPath,
        };

        public DistillationContext ForDistillation(PluginChoice algorithm, ImageSet train, IKernelFunction? kernel,
            Func<SupportSet, IReadOnlyDictionary<string, double>> evaluate, ICheckpointStore checkpoints) => new()
        {
            Device = device, DType = dtype, Seed = seed, Logger = logger, Progress = progress, Cancellation = cancellation,
            ManifestSection = algorithm.ManifestPath,
            Train = train, Kernel = kernel, Evaluate = evaluate, Checkpoints = checkpoints, FeatureCaches = featureCaches,
        };

        public EvaluationContext ForEvaluation(PluginChoice evaluator, SupportSet support, ImageSet test, IKernelFunction? kernel, bool reportProgress) => new()
        {
            Device = device, DType = dtype, Seed = seed, Logger = logger, Cancellation = cancellation,
            Progress = reportProgress ? progress : NullProgressReporter.Instance,
            ManifestSection = evaluator.ManifestPath,
            Support = support, Test = test, Kernel = kernel, FeatureCaches = featureCaches,
        };
    }
}
