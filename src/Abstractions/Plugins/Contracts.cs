using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Plugins;

// The rules every plugin follows — the checkpoint on cancellation, the generator purposes, evaluation with the
// initial draw, tensor ownership, the two exception types — are stated on the members they concern and gathered in
// the package README (src/Abstractions/README.md), which is what a plugin author reads first.

/// <summary>
/// What every plugin kind has in common: a typed options class. The host binds the manifest's <c>options</c> object to
/// it, validates it (DataAnnotations, then <see cref="IValidatableOptions"/>) and passes the instance to every call.
/// </summary>
/// <remarks>
/// Implement the generic interface of a kind (<see cref="IDistillationAlgorithm{TOptions}"/>,
/// <see cref="IKernelProvider{TOptions}"/>, <see cref="IDatasetLoader{TOptions}"/>, <see cref="IPreprocessor{TOptions}"/>,
/// <see cref="IEvaluator{TOptions}"/>): it implements this member and the untyped call for you. Export the class with the
/// kind's attribute (<see cref="ExportAlgorithmAttribute"/>, …). MEF creates a fresh instance for each use, and one more
/// when the plugin folder is loaded to read <see cref="OptionsType"/>, so the constructor must be public, parameterless,
/// cheap and free of side effects; keep per-run state in locals or in what the call returns, not in fields.
/// </remarks>
public interface IPlugin
{
    /// <summary>
    /// The options class: public, with a public parameterless constructor whose property values are the defaults. Its
    /// public settable properties are the options (named in camelCase in the manifest, e.g. <c>ImagesPerClass</c> →
    /// <c>imagesPerClass</c>), typed <c>int</c>, <c>long</c>, <c>double</c>, <c>bool</c>, <c>string</c>, an enum (written in
    /// camelCase), their nullable forms or arrays; each carries a <c>[Description]</c>, and <c>[Range]</c> or
    /// <c>[AllowedValues]</c> where it has limits. The host lists them (<c>distillery plugins</c>), writes them into the JSON
    /// Schema and, with every default filled in, into <c>manifest.resolved.json</c> — so a derived value belongs in a method,
    /// not a property. <see cref="NoOptions"/> for a plugin that takes none.
    /// </summary>
    Type OptionsType { get; }
}

/// <summary>
/// Optional cross-field validation of an options class: rules one attribute cannot state (the bundled <c>transfer</c>
/// evaluator refuses a <c>labelScale</c> other than 1 with the cross-entropy loss).
/// The host calls it after binding and checking the attributes, and reports each problem as
/// <c>&lt;section&gt;.options.&lt;option&gt;: &lt;message&gt;</c> together with every other mistake of the manifest, before
/// anything runs (exit code 2).
/// </summary>
public interface IValidatableOptions
{
    /// <summary>
    /// Every problem as (option, message): the option's property name (the host writes it in camelCase) and what is wrong
    /// and allowed, e.g. <c>(nameof(LabelScale), "scales the regression targets of loss mse only; it must be 1 with loss
    /// crossEntropy")</c>. Empty when valid. It runs even
    /// when an attribute check failed, so it must not throw on out-of-range values; it must not touch files or tensors.
    /// </summary>
    IEnumerable<(string Option, string Message)> Validate();
}

// ---- algorithms ------------------------------------------------------------------------------------------

/// <summary>
/// The untyped form of <see cref="IDistillationAlgorithm{TOptions}"/>, which the host calls; implement the generic
/// interface instead. Exported with <see cref="ExportAlgorithmAttribute"/>.
/// </summary>
public interface IAlgorithm : IPlugin
{
    /// <summary>Calls <see cref="IDistillationAlgorithm{TOptions}.Distill(DistillationContext, TOptions)"/> with the bound options (an instance of <see cref="IPlugin.OptionsType"/>).</summary>
    /// <param name="run">The run: training set, kernel, seed, checkpoints, cancellation.</param>
    /// <param name="options">The bound and validated options, of type <see cref="IPlugin.OptionsType"/>.</param>
    /// <returns>The support set (see the generic member).</returns>
    SupportSet Distill(DistillationContext run, object options);
}

/// <summary>
/// A distillation algorithm: turns the preprocessed training set <see cref="DistillationContext.Train"/> into a small
/// support set, e.g. KIP (Nguyen, Chen &amp; Lee, ICLR 2021) or Label Solve (Nguyen, Novak, Xiao &amp; Lee, NeurIPS 2021).
/// </summary>
/// <typeparam name="TOptions">The options class (see <see cref="IPlugin.OptionsType"/>).</typeparam>
public interface IDistillationAlgorithm<TOptions> : IAlgorithm where TOptions : class, new()
{
    /// <summary>
    /// Distils the training set. Called once per run, after the data, the kernel and the evaluators are ready and the run
    /// folder is claimed — also when the folder already holds the finished run and only its <c>evaluation</c> changed: then
    /// the latest checkpoint is the final one, and the call must return the same support set without running a step.
    /// </summary>
    /// <remarks>
    /// <para><b>Randomness.</b> Draw everything from <see cref="RunContext.CreateGenerator"/> with a purpose of your own,
    /// prefixed with the algorithm's manifest name, and the step as index where each step draws anew: KIP uses
    /// <c>kip.support-init</c>, <c>("kip.target-batch", step)</c> and <c>("kip.kernel", step)</c>; Label Solve
    /// <c>label-solve.support</c> and <c>label-solve.targets</c>. Never the global generator, and no generator carried from
    /// step to step: a stream derived from (seed, purpose, step) is the same after a resume, so no generator state needs
    /// checkpointing and a resumed run draws exactly what an uninterrupted one did.</para>
    /// <para><b>Progress.</b> Call <c>run.Progress.Start(phase, totalSteps, firstStep)</c> once (phase: the algorithm's
    /// name; <c>firstStep</c>: the step resumed from), then <see cref="IProgressReporter.Report"/> per step with its loss.
    /// For periodic evaluation call <see cref="DistillationContext.Evaluate"/> on a snapshot of the support set and report
    /// its figures in <see cref="ProgressUpdate.Metrics"/> at that step (KIP also evaluates its starting point, at step 0,
    /// when it starts fresh).</para>
    /// <para><b>Evaluation with the initial draw.</b> With an <see cref="IRedrawableKernel"/>, call
    /// <c>Redraw(null)</c> before every <see cref="DistillationContext.Evaluate"/> and before returning: the evaluators use
    /// the run's kernel object as it is, and the kernel's initial draw is the only one that does not depend on the last
    /// step run in this process — so figures are the same whether or not the run was resumed, and where.</para>
    /// <para><b>Checkpoints and cancellation.</b> At start, <c>run.Checkpoints.LoadLatest()</c>: when it returns a
    /// checkpoint, restore every tensor the remaining steps depend on (optimiser moments included) and continue from
    /// <see cref="Checkpoint.Step"/>. Save every so many steps and after the last. Check
    /// <see cref="RunContext.Cancellation"/> between steps: when it fires (Ctrl+C or SIGTERM),
    /// save a checkpoint of the finished steps, then call <c>run.Cancellation.ThrowIfCancellationRequested()</c>. The host
    /// catches the <see cref="OperationCanceledException"/>, logs "Cancelled: a checkpoint was written; run the same
    /// command again to resume" and exits with code 130; the same command resumes from that checkpoint to exactly the
    /// result of an uninterrupted run. An algorithm without steps (Label Solve) just checks the token between blocks of
    /// work and throws: it starts over.</para>
    /// </remarks>
    /// <param name="run">The run: <see cref="DistillationContext.Train"/> (on <see cref="RunContext.Device"/>, images in
    /// <see cref="RunContext.DType"/>), the kernel, seed, logger, progress, checkpoints, cancellation and periodic evaluation.</param>
    /// <param name="options">The bound and validated options.</param>
    /// <returns>
    /// The support set: images [n, C, H, W] in the training images' preprocessed space, <see cref="RunContext.DType"/>,
    /// on <see cref="RunContext.Device"/>; regression targets [n, classes] in the same dtype and device (one-hot minus 1/C,
    /// <see cref="RegressionTargets.Encode"/>, unless learned); classes int64 [n] (the class each image stands for). Detached
    /// from autograd, and owned by the host from then on: it checks them for NaN and infinity, writes them to the run
    /// folder and hands them to the evaluators, so return tensors nothing else disposes or changes (KIP returns clones).
    /// </returns>
    /// <exception cref="DistilleryException">Input the user must fix (e.g. more images per class than the smallest class
    /// has), naming the manifest option: exit code 2. Thrown before any checkpoint in a new folder, the host gives the
    /// folder back, so the corrected command starts there.</exception>
    /// <exception cref="NumericalFailureException">The optimisation diverged (a non-finite loss, image or kernel matrix),
    /// naming the step and what to change: exit code 3.</exception>
    /// <exception cref="OperationCanceledException">Cancelled, after the checkpoint (see remarks): exit code 130.</exception>
    SupportSet Distill(DistillationContext run, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    SupportSet IAlgorithm.Distill(DistillationContext run, object options) => Distill(run, (TOptions)options);
}

// ---- kernels ---------------------------------------------------------------------------------------------

/// <summary>
/// A kernel function k(x, x′) on batches of images, e.g. the infinite-width NTK or NNGP of a network (neural-tangents
/// semantics, NTK parameterisation). Its matrices feed kernel ridge regression (<see cref="KernelRidge"/>), which
/// factorises K_ss + λI by Cholesky: k must be symmetric and positive semi-definite.
/// </summary>
public interface IKernelFunction
{
    /// <summary>
    /// The kernel matrix K[i, j] = k(x1[i], x2[j]), [n1, n2], between images x1 [n1, C, H, W] and x2 [n2, C, H, W] in the
    /// run's preprocessed space, in their dtype (the run's <see cref="RunContext.DType"/>) and on their device.
    /// </summary>
    /// <remarks>
    /// Differentiable with respect to both inputs: KIP back-propagates through it to the support images (KIP calls it with
    /// gradients on; evaluators and Label Solve under <c>no_grad</c>). <c>Compute(x, x)</c> — the same tensor twice — is
    /// K_ss and may be computed more cheaply. Inputs are neither changed nor kept. Bound the memory of large inputs by
    /// working in blocks, and keep every <see cref="Scalar"/> alive for its native call (see
    /// <see cref="Numerics.HeldScalars"/>).
    /// </remarks>
    /// <param name="x1">Images [n1, C, H, W]; not owned.</param>
    /// <param name="x2">Images [n2, C, H, W], same C, H, W, dtype and device; not owned.</param>
    /// <returns>A new tensor [n1, n2] that the caller owns (it lands in the caller's dispose scope).</returns>
    torch.Tensor Compute(torch.Tensor x1, torch.Tensor x2);
}

/// <summary>
/// A kernel with random parts (e.g. an ensemble of random finite networks, RFAD, Loo et al. NeurIPS 2022) that an
/// algorithm may redraw between optimisation steps, so the support set cannot overfit one draw.
/// </summary>
/// <remarks>
/// <para><b>The kernel's side.</b> Make the initial draw in <see cref="IKernelProvider{TOptions}.Create"/> from
/// <c>run.CreateGenerator("&lt;kernel name&gt;.init")</c> (the bundled <c>convnet-rf</c> uses <c>convnet-rf.init</c>), and make
/// every draw a function of the generator it is given only.</para>
/// <para><b>The algorithm's side.</b> Before each optimisation step, <c>Redraw(run.CreateGenerator("&lt;algorithm&gt;.kernel",
/// step))</c> (KIP: <c>kip.kernel</c>): the draw of step k is then the same in an uninterrupted and a resumed run. Before
/// every evaluation and before returning the support set, <c>Redraw(null)</c>: the evaluators see the initial draw, so
/// figures never depend on where a run resumed.</para>
/// </remarks>
public interface IRedrawableKernel : IKernelFunction
{
    /// <summary>
    /// Replaces the random parts with a draw made from <paramref name="generator"/>, or, when it is null, restores the initial
    /// draw (the one made when the kernel was created from the run seed), which evaluation uses. A kernel configured to stay
    /// fixed (e.g. <c>convnet-rf</c> with <c>redraw: fixed</c>) ignores a non-null generator. Cheap: a new draw may be
    /// realised lazily, at the next <see cref="IKernelFunction.Compute"/>.
    /// </summary>
    /// <param name="generator">A CPU generator that the caller owns and disposes after the call (do not keep it), or null
    /// for the initial draw.</param>
    void Redraw(Generator? generator);
}

/// <summary>
/// The untyped form of <see cref="IKernelProvider{TOptions}"/>, which the host calls; implement the generic interface
/// instead. Exported with <see cref="ExportKernelAttribute"/>.
/// </summary>
public interface IKernelProvider : IPlugin
{
    /// <summary>Calls <see cref="IKernelProvider{TOptions}.Create(RunContext, TOptions)"/> with the bound options.</summary>
    /// <param name="run">The run's device, dtype, seed and logger.</param>
    /// <param name="options">The bound and validated options, of type <see cref="IPlugin.OptionsType"/>.</param>
    /// <returns>The run's kernel (see the generic member).</returns>
    IKernelFunction Create(RunContext run, object options);
}

/// <summary>Builds the run's kernel from the manifest's <c>kernel</c> section (e.g. <c>fc</c>, <c>convnet</c>, <c>convnet-rf</c>).</summary>
/// <typeparam name="TOptions">The options class (see <see cref="IPlugin.OptionsType"/>).</typeparam>
public interface IKernelProvider<TOptions> : IKernelProvider where TOptions : class, new()
{
    /// <summary>
    /// Creates the run's kernel. Called once per run, before the run folder is claimed: a <see cref="DistilleryException"/>
    /// here is refused input (exit code 2) and leaves the folder as it was. The <paramref name="run"/> context has the
    /// run's device, dtype, seed, logger and cancellation, but no progress reporter, checkpoint store or feature caches.
    /// </summary>
    /// <param name="run">The run; draw any random parts from <c>run.CreateGenerator("&lt;kernel name&gt;.init")</c>, never from
    /// the global generator (see <see cref="IRedrawableKernel"/>).</param>
    /// <param name="options">The bound and validated options.</param>
    /// <returns>
    /// The kernel, for images in <see cref="RunContext.DType"/> on <see cref="RunContext.Device"/>. The host keeps this one
    /// object for the whole run and hands it to the algorithm (<see cref="DistillationContext.Kernel"/>) and to every
    /// evaluator (<see cref="EvaluationContext.Kernel"/>). Optional capabilities: <see cref="IRedrawableKernel"/>,
    /// <see cref="IFeatureMapKernel"/>.
    /// </returns>
    IKernelFunction Create(RunContext run, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    IKernelFunction IKernelProvider.Create(RunContext run, object options) => Create(run, (TOptions)options);
}

// ---- datasets --------------------------------------------------------------------------------------------

/// <summary>
/// The untyped form of <see cref="IDatasetLoader{TOptions}"/>, which the host calls; implement the generic interface
/// instead. Exported with <see cref="ExportDatasetAttribute"/>.
/// </summary>
public interface IDatasetLoader : IPlugin
{
    /// <summary>Calls <see cref="IDatasetLoader{TOptions}.Load(RunContext, TOptions)"/> with the bound options.</summary>
    /// <param name="run">The run's device, dtype, seed, logger and cancellation.</param>
    /// <param name="options">The bound and validated options, of type <see cref="IPlugin.OptionsType"/>.</param>
    /// <returns>The training and test splits (see the generic member).</returns>
    DatasetSplits Load(RunContext run, object options);

    /// <summary>Calls <see cref="IDatasetLoader{TOptions}.Check(TOptions)"/> with the bound options.</summary>
    /// <param name="options">The bound and validated options, of type <see cref="IPlugin.OptionsType"/>.</param>
    void Check(object options);
}

/// <summary>Loads a labelled dataset from the manifest's <c>dataset</c> section (e.g. <c>fashion-mnist</c>, <c>cifar10</c>, <c>image-folder</c>).</summary>
/// <typeparam name="TOptions">The options class (see <see cref="IPlugin.OptionsType"/>).</typeparam>
public interface IDatasetLoader<TOptions> : IDatasetLoader where TOptions : class, new()
{
    /// <summary>
    /// Reads the training and test splits. Called once per run, first, before the run folder is claimed. Long reads may
    /// observe <see cref="RunContext.Cancellation"/> (throw <see cref="OperationCanceledException"/>; nothing to save).
    /// </summary>
    /// <param name="run">The run; <see cref="RunContext.Progress"/> and <see cref="RunContext.Checkpoints"/> are inert here.</param>
    /// <param name="options">The bound and validated options.</param>
    /// <returns>
    /// The splits, with images as floating-point [N, C, H, W] pixel values in [0, 1] on the CPU, labels int64 [N] in
    /// [0, classes), and the same class names in both splits. Ownership passes to the host, which converts the images to the
    /// run's dtype, holds out the validation split if asked, fits the preprocessing and moves both splits to the device.
    /// </returns>
    /// <exception cref="DistilleryException">For a missing, truncated or malformed file a <see cref="DataFormatException"/>
    /// naming the file and what is wrong (never an index-out-of-range); for other input the user must fix, a
    /// <see cref="DistilleryException"/> naming the option. Either is exit code 2.</exception>
    DatasetSplits Load(RunContext run, TOptions options);

    /// <summary>
    /// A cheap check that <see cref="Load(RunContext, TOptions)"/> will find its data — the files exist and their
    /// headers parse — without reading the data itself; <c>distillery validate</c> calls it. Throws
    /// <see cref="DistilleryException"/> (for a file, <see cref="DataFormatException"/>) naming the file and the
    /// problem. The default checks nothing: a dataset that cannot be checked cheaply is found wanting only when it loads.
    /// </summary>
    /// <param name="options">The bound and validated options.</param>
    /// <exception cref="DistilleryException">The data will not load; the message names the file or option.</exception>
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
/// <remarks>The transform owns the tensors of its fitted state; the host keeps it for the whole run.</remarks>
public interface IImageTransform
{
    /// <summary>
    /// Transforms images [N, C, H, W] (the output of the previous preprocessing step) into the next space, e.g.
    /// (x − mean) / std. Applied to the training and the test (or validation) images with the same fitted state.
    /// </summary>
    /// <param name="images">Images [N, C, H, W], any floating dtype and device; not changed and not owned.</param>
    /// <returns>A new tensor [N, C′, H′, W′] (usually the input's shape) in the input's dtype and on its device, owned by the caller.</returns>
    /// <exception cref="DistilleryException">The images do not fit the transform (e.g. another channel count), naming the step.</exception>
    torch.Tensor Forward(torch.Tensor images);

    /// <summary>
    /// The inverse of <see cref="Forward"/>, back to the previous space: the host maps support images through every
    /// step's inverse to pixel space for <c>distilled.png</c>, the preview and the <c>pixels</c> tensor. Learned images lie
    /// outside the range real ones do, so the inverse must be defined everywhere, not only on transformed real images.
    /// </summary>
    /// <param name="images">Images in the transformed space, any floating dtype and device; not changed and not owned.</param>
    /// <returns>A new tensor in the input's dtype and on its device, owned by the caller.</returns>
    torch.Tensor Inverse(torch.Tensor images);

    /// <summary>
    /// Tensors that define the fitted transform, e.g. <c>mean</c> and <c>std</c> [C]; the host saves them to the run's
    /// <c>preprocessing.safetensors</c> as <c>&lt;index&gt;.&lt;preprocessor name&gt;.&lt;key&gt;</c>, so the same transform
    /// can be applied to new data. Owned by the transform: the host neither changes nor disposes them.
    /// </summary>
    IReadOnlyDictionary<string, torch.Tensor> State { get; }
}

/// <summary>
/// The untyped form of <see cref="IPreprocessor{TOptions}"/>, which the host calls; implement the generic interface
/// instead. Exported with <see cref="ExportPreprocessorAttribute"/>.
/// </summary>
public interface IPreprocessor : IPlugin
{
    /// <summary>Calls <see cref="IPreprocessor{TOptions}.Fit(RunContext, torch.Tensor, TOptions)"/> with the bound options.</summary>
    /// <param name="run">The run's device, dtype, seed and logger.</param>
    /// <param name="trainImages">The training images [N, C, H, W]; not owned.</param>
    /// <param name="options">The bound and validated options, of type <see cref="IPlugin.OptionsType"/>.</param>
    /// <returns>The fitted transform.</returns>
    IImageTransform Fit(RunContext run, torch.Tensor trainImages, object options);
}

/// <summary>A preprocessing step of the manifest's <c>preprocess</c> list (e.g. <c>standardize</c>, <c>zca</c>).</summary>
/// <typeparam name="TOptions">The options class (see <see cref="IPlugin.OptionsType"/>).</typeparam>
public interface IPreprocessor<TOptions> : IPreprocessor where TOptions : class, new()
{
    /// <summary>
    /// Fits the transform on the training images only — after the validation split was held out and after the previous
    /// steps of the list were applied — before the run folder is claimed. The host then applies it to the training and
    /// the test (or validation) images alike and checks the results are finite.
    /// </summary>
    /// <param name="run">The run; <see cref="RunContext.Progress"/> and <see cref="RunContext.Checkpoints"/> are inert here.</param>
    /// <param name="trainImages">The training images [N, C, H, W] in the run's dtype, on the CPU (the host moves the data to
    /// the device after preprocessing). Not owned: do not change them in place.</param>
    /// <param name="options">The bound and validated options.</param>
    /// <returns>The fitted transform, owning copies of its state (detached from any dispose scope the fit used).</returns>
    /// <exception cref="DistilleryException">The images cannot be fitted as asked (e.g. a constant channel with a zero
    /// epsilon), naming the option to change: exit code 2.</exception>
    IImageTransform Fit(RunContext run, torch.Tensor trainImages, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    IImageTransform IPreprocessor.Fit(RunContext run, torch.Tensor trainImages, object options) => Fit(run, trainImages, (TOptions)options);
}

// ---- evaluation ------------------------------------------------------------------------------------------

/// <summary>
/// The untyped form of <see cref="IEvaluator{TOptions}"/>, which the host calls; implement the generic interface
/// instead. Exported with <see cref="ExportEvaluatorAttribute"/>.
/// </summary>
public interface IEvaluator : IPlugin
{
    /// <summary>Calls <see cref="IEvaluator{TOptions}.Evaluate(EvaluationContext, TOptions)"/> with the bound options.</summary>
    /// <param name="evaluation">The support set, the set it is scored on and the run's kernel.</param>
    /// <param name="options">The bound and validated options, of type <see cref="IPlugin.OptionsType"/>.</param>
    /// <returns>Named figures, e.g. <c>testAccuracy</c> (a fraction).</returns>
    IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, object options);
}

/// <summary>Scores a support set, one entry of the manifest's <c>evaluation</c> list (e.g. <c>krr</c>, <c>transfer</c>).</summary>
/// <typeparam name="TOptions">The options class (see <see cref="IPlugin.OptionsType"/>).</typeparam>
public interface IEvaluator<TOptions> : IEvaluator where TOptions : class, new()
{
    /// <summary>
    /// Scores <see cref="EvaluationContext.Support"/> on <see cref="EvaluationContext.Test"/>. Called under <c>no_grad</c>
    /// at every periodic evaluation of the algorithm (<see cref="DistillationContext.Evaluate"/>; progress reports are then
    /// discarded) and once at the end of the run (report progress with a phase of your own, e.g. <c>transfer</c>, if it is
    /// long). A folder whose manifest changed only its <c>evaluation</c> is evaluated again from the final checkpoint.
    /// </summary>
    /// <remarks>
    /// Draw randomness only from <c>evaluation.CreateGenerator("&lt;evaluator name&gt;", i)</c> (the bundled <c>transfer</c>
    /// uses <c>("transfer", seed)</c>): never the global generator, whose state a periodic evaluation would otherwise
    /// change under the algorithm. Figures then depend only on the run seed, the options and the support set. On
    /// <see cref="RunContext.Cancellation"/>, throw <see cref="OperationCanceledException"/> between blocks of work:
    /// there is nothing to save, the evaluation runs again on resume.
    /// </remarks>
    /// <param name="evaluation">The support set, the scored set, the run's kernel (with its initial draw) and its feature caches.</param>
    /// <param name="options">The bound and validated options.</param>
    /// <returns>
    /// Named figures, all finite (the host refuses NaN or infinity with a <see cref="NumericalFailureException"/>). Name
    /// figures of the scored set <c>test…</c> (<c>testAccuracy</c> as a fraction in [0, 1], <c>testLoss</c>,
    /// <c>testCount</c>): when the run scores a validation split instead, the host renames them <c>validation…</c>. They
    /// appear in <c>metrics.json</c> under the evaluator's name, and as <c>&lt;evaluator&gt;.&lt;figure&gt;</c> in progress.
    /// </returns>
    /// <exception cref="DistilleryException">The evaluator cannot run on this input (e.g. <c>krr</c> without a kernel),
    /// naming what to add to the manifest: exit code 2.</exception>
    /// <exception cref="NumericalFailureException">Its computation overflowed or diverged, naming where and what to change:
    /// exit code 3.</exception>
    IReadOnlyDictionary<string, double> Evaluate(EvaluationContext evaluation, TOptions options);

    Type IPlugin.OptionsType => typeof(TOptions);
    IReadOnlyDictionary<string, double> IEvaluator.Evaluate(EvaluationContext evaluation, object options) => Evaluate(evaluation, (TOptions)options);
}

/// <summary>Options for plugins that take none: <c>IEvaluator&lt;NoOptions&gt;</c>; the manifest's <c>options</c> must then be empty.</summary>
public sealed class NoOptions;
