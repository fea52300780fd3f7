using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Plugins;

/// <summary>
/// Every plugin declares a typed options class; the host binds the manifest's <c>options</c> object to it,
/// validates it (DataAnnotations plus <see cref="IValidatableOptions"/>) and passes the instance in.
/// </summary>
public interface IPlugin
{
    Type OptionsType { get; }
}

/// <summary>Optional cross-field validation of an options class, reported with the options' manifest path.</summary>
public interface IValidatableOptions
{
    /// <summary>Returns (option name, message) for every problem; empty when valid.</summary>
    IEnumerable<(string Option, string Message)> Validate();
}

// ---- algorithms ------------------------------------------------------------------------------------------

public interface IAlgorithm : IPlugin
{
    SupportSet Distill(DistillationContext run, object options);
}

/// <summary>A distillation algorithm: turns the (preprocessed) training set into a small support set.</summary>
public interface IDistillationAlgorithm<TOptions> : IAlgorithm where TOptions : class, new()
{
    SupportSet Distill(DistillationContext run, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    SupportSet IAlgorithm.Distill(DistillationContext run, object options) => Distill(run, (TOptions)options);
}

// ---- kernels ---------------------------------------------------------------------------------------------

/// <summary>A kernel function k(x, x′) on batches of images; differentiable with respect to both inputs.</summary>
public interface IKernelFunction
{
    /// <summary>The [n1, n2] kernel matrix between images x1 [n1, C, H, W] and x2 [n2, C, H, W].</summary>
    torch.Tensor Compute(torch.Tensor x1, torch.Tensor x2);
}

/// <summary>
/// A kernel with random parts (e.g. an ensemble of random finite networks) that an algorithm redraws between
/// optimisation steps. Algorithms pass a generator derived from (seed, step), so a resumed run redraws exactly
/// what an uninterrupted one did; a kernel configured to stay fixed ignores the call. <c>null</c> restores the
/// kernel's initial draw (from the run seed), which evaluation uses, so figures never depend on where a run resumed.
/// </summary>
public interface IRedrawableKernel : IKernelFunction
{
    void Redraw(Generator? generator);
}

public interface IKernelProvider : IPlugin
{
    IKernelFunction Create(RunContext run, object options);
}

public interface IKernelProvider<TOptions> : IKernelProvider where TOptions : class, new()
{
    IKernelFunction Create(RunContext run, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    IKernelFunction IKernelProvider.Create(RunContext run, object options) => Create(run, (TOptions)options);
}

// ---- datasets --------------------------------------------------------------------------------------------

public interface IDatasetLoader : IPlugin
{
    DatasetSplits Load(RunContext run, object options);

    /// <summary>See <see cref="IDatasetLoader{TOptions}.Check(TOptions)"/>.</summary>
    void Check(object options);
}

/// <summary>Loads a labelled dataset as float images in [0, 1] on the CPU; the host moves them to the device.</summary>
public interface IDatasetLoader<TOptions> : IDatasetLoader where TOptions : class, new()
{
    DatasetSplits Load(RunContext run, TOptions options);

    /// <summary>
    /// A cheap check that <see cref="Load(RunContext, TOptions)"/> will find its data — the files exist and their
    /// headers parse — without reading the data itself; <c>distillery validate</c> calls it. Throws
    /// <see cref="DistilleryException"/> (for a file, <see cref="DataFormatException"/>) naming the file and the
    /// problem. The default checks nothing: a dataset that cannot be checked cheaply is found wanting only when it loads.
    /// </summary>
    void Check(TOptions options) { }

    Type IPlugin.OptionsType => typeof(TOptions);
    DatasetSplits IDatasetLoader.Load(RunContext run, object options) => Load(run, (TOptions)options);
    void IDatasetLoader.Check(object options) => Check((TOptions)options);
}

// ---- preprocessing ---------------------------------------------------------------------------------------

/// <summary>
/// An invertible image transform fitted on the training images. The host applies it to train and test alike,
/// saves its state with the run, and uses <see cref="Inverse"/> to show distilled images in pixel space.
/// </summary>
public interface IImageTransform
{
    torch.Tensor Forward(torch.Tensor images);
    torch.Tensor Inverse(torch.Tensor images);

    /// <summary>Tensors that define the fitted transform (saved to the run folder).</summary>
    IReadOnlyDictionary<string, torch.Tensor> State { get; }
}

public interface IPreprocessor : IPlugin
{
    IImageTransform Fit(RunContext run, torch.Tensor trainImages, object options);
}

public interface IPreprocessor<TOptions> : IPreprocessor where TOptions : class, new()
{
    IImageTransform Fit(RunContext run, torch.Tensor trainImages, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    IImageTransform IPreprocessor.Fit(RunContext run, torch.Tensor trainImages, object options) => Fit(run, trainImages, (TOptions)options);
}

// ---- evaluation ------------------------------------------------------------------------------------------

public interface IEvaluator : IPlugin
{
    /// <summary>Named figures, e.g. <c>testAccuracy</c> (a fraction).</summary>
    IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, object options);
}

public interface IEvaluator<TOptions> : IEvaluator where TOptions : class, new()
{
    IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    IReadOnlyDictionary<string, double> IEvaluator.Evaluate(EvaluationContext evaluation, object options) => Evaluate(evaluation, (TOptions)options);
}

/// <summary>Options for plugins that take none.</summary>
public sealed class NoOptions;
