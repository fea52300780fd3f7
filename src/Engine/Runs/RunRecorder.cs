using Distillery.Abstractions.Runs;
using Distillery.Engine.Manifests;
using Distillery.Engine.Outputs;
using Microsoft.Extensions.Logging;

namespace Distillery.Engine.Runs;

/// <summary>
/// Records a run for the tools researchers use, alongside the display it passes progress on to: TensorBoard event
/// files (when <c>output.tensorboard</c> is on) with the loss of every step and every figure as scalars under
/// "&lt;phase&gt;/", the support set's image grid at each periodic evaluation and at the end ("&lt;phase&gt;/images"), the
/// resolved manifest as text ("options"); and, at the end, progress.png. The final figures are logged at the last
/// step of the distillation phase, where its periodic curves end.
/// </summary>
public sealed class RunRecorder : IProgressDisplay
{
    private readonly RunFolder _folder;
    private readonly IProgressDisplay _display;
    private readonly TensorBoardLog? _tensorBoard;
    private readonly ILogger _logger;
    private string _phase;
    private long _step;
    private string? _pendingImage;
    private (string Phase, long Step)? _distillation;

    private RunRecorder(RunFolder folder, IProgressDisplay display, TensorBoardLog? tensorBoard, string algorithm, ILogger logger) =>
        (_folder, _display, _tensorBoard, _phase, _logger) = (folder, display, tensorBoard, algorithm, logger);

    /// <summary>
    /// Starts recording into <paramref name="folder"/>, whose manifest.resolved.json is written. A new TensorBoard event
    /// file is started (see <see cref="TensorBoardLog"/>) unless the manifest turns TensorBoard off.
    /// </summary>
    public static RunRecorder Open(ExperimentPlan plan, RunFolder folder, IProgressDisplay display, ILogger logger)
    {
        TensorBoardLog? tensorBoard = null;
        if (plan.Manifest.Output.TensorBoard)
        {
            tensorBoard = TensorBoardLog.Open(folder.Path, logger);
            tensorBoard.Text("options", TensorBoardLog.CodeBlock(File.ReadAllText(folder.ResolvedManifest)), 0);
        }
        // A phase-less algorithm (e.g. natural) gets its final figures under its own name.
        return new RunRecorder(folder, display, tensorBoard, plan.Algorithm.Plugin.Name, logger);
    }

    /// <inheritdoc/>
    public void Start(string phase, long totalSteps, long firstStep)
    {
        (_phase, _step) = (phase, firstStep);
        _display.Start(phase, totalSteps, firstStep);
    }

    /// <inheritdoc/>
    public void Report(ProgressUpdate update)
    {
        _step = update.Step;
        if (_tensorBoard is not null)
        {
            if (update.Loss is { } loss) _tensorBoard.Scalar($"{_phase}/loss", loss, update.Step);
            foreach (var (figure, value) in update.Metrics ?? new Dictionary<string, double>())
                _tensorBoard.Scalar($"{_phase}/{figure}", value, update.Step);
            if (_pendingImage is { } image) _tensorBoard.Image($"{_phase}/images", image, update.Step);
        }
        _pendingImage = null;
        _display.Report(update);
    }

    /// <summary>A periodic evaluation wrote the support set's grid to <paramref name="pngPath"/>: logged with the step reported next.</summary>
    public void PreviewWritten(string pngPath) => _pendingImage = pngPath;

    /// <summary>The algorithm returned: its phase and last step are where the final figures go.</summary>
    public void DistillationFinished() => _distillation = (_phase, _step);

    /// <summary>
    /// The run's final figures and image grid: logged to TensorBoard, then progress.png drawn from progress.jsonl.
    /// A plot that cannot be drawn (e.g. no native SkiaSharp on this platform) is a warning: the run's results stand.
    /// </summary>
    public void Finished(IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> evaluations, string gridPng)
    {
        var (phase, step) = _distillation ?? (_phase, _step);
        var figures = evaluations.SelectMany(e => e.Value.Select(f => KeyValuePair.Create($"{e.Key}.{f.Key}", f.Value))).ToDictionary();
        if (_tensorBoard is not null)
        {
            foreach (var (figure, value) in figures) _tensorBoard.Scalar($"{phase}/{figure}", value, step);
            _tensorBoard.Image($"{phase}/images", gridPng, step);
        }
        try
        {
            ProgressPlot.Write(_folder.ProgressPlot, ProgressRecord.ReadFile(_folder.ProgressLog).Records, (phase, step, figures));
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or IOException)
        {
            _logger.LogWarning("{Plot} was not drawn: {Reason}", _folder.ProgressPlot, e.Message);
        }
    }
}
