using System.Diagnostics;
using Distillery.Abstractions.Data;
using Distillery.Abstractions.Runs;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// The bookkeeping DC, DSA and DM share around their image updates: iterations of a fixed number of updates, progress
/// (one report per iteration, with the mean loss of its updates), periodic evaluation and checkpoints at iteration
/// boundaries, a checkpoint and <see cref="OperationCanceledException"/> when the run is stopped between two updates,
/// a final checkpoint, and the time of each iteration in the debug log.
/// </summary>
/// <param name="run">The run.</param>
/// <param name="phase">The algorithm's manifest name (progress phase, log lines).</param>
/// <param name="options">Iterations, evaluation and checkpoint intervals.</param>
/// <param name="updatesPerIteration">Image updates per iteration (DC/DSA's outer loop; 1 for DM).</param>
internal sealed class MatchingLoop(DistillationContext run, string phase, MatchingOptions options, int updatesPerIteration)
{
    /// <summary>
    /// Runs the updates left after <paramref name="state"/>'s, then returns the final support set.
    /// </summary>
    /// <param name="state">The synthetic set, fresh or resumed.</param>
    /// <param name="update">Performs image update number <c>u</c> (0-based over the whole run: iteration u / updatesPerIteration,
    /// position u % updatesPerIteration) and returns its loss (finite; the callee checks).</param>
    /// <param name="unfinishedIterationTensors">What else a checkpoint taken inside an iteration must hold (e.g. the network).</param>
    public SupportSet Run(SyntheticSet state, Func<long, double> update, Func<IEnumerable<KeyValuePair<string, Tensor>>> unfinishedIterationTensors)
    {
        var totalUpdates = (long)options.Iterations * updatesPerIteration;
        run.Progress.Start(phase, options.Iterations, state.Updates / updatesPerIteration);
        // The starting point, or the evaluation a stop interrupted (the resumed run owes it before going on).
        if ((state.Updates == 0 && options.EvaluationInterval > 0) || state.EvaluationPending)
            run.Progress.Report(new ProgressUpdate(state.Updates / updatesPerIteration, null, Evaluate(state, unfinishedIterationTensors)));
        var clock = new Stopwatch();
        while (state.Updates < totalUpdates)
        {
            if (run.Cancellation.IsCancellationRequested)
            {
                Save(state, unfinishedIterationTensors);
                run.Cancellation.ThrowIfCancellationRequested();
            }
            if (!clock.IsRunning) clock.Restart();

            state.LossSum += update(state.Updates);
            state.Updates++;
            if (state.Updates % updatesPerIteration != 0) continue;

            var iteration = state.Updates / updatesPerIteration;
            var loss = state.LossSum / updatesPerIteration;
            state.LossSum = 0;
            clock.Stop();
            run.Logger.LogDebug("{Phase} iteration {Iteration}: {Seconds:F3} s, loss {Loss:G6}", phase, iteration, clock.Elapsed.TotalSeconds, loss);

            IReadOnlyDictionary<string, double>? metrics = null;
            if (options.EvaluationInterval > 0 && iteration % options.EvaluationInterval == 0 && iteration < options.Iterations)
            {
                try
                {
                    metrics = Evaluate(state, unfinishedIterationTensors);
                }
                catch (OperationCanceledException)
                {
                    // Stopped during the evaluation, which checkpointed the iteration with the evaluation owed: report its loss now.
                    run.Progress.Report(new ProgressUpdate(iteration, loss, null));
                    throw;
                }
            }
            run.Progress.Report(new ProgressUpdate(iteration, loss, metrics));

            if (options.CheckpointInterval > 0 && iteration % options.CheckpointInterval == 0)
                Save(state, unfinishedIterationTensors);
        }
        Save(state, unfinishedIterationTensors);
        run.Logger.LogInformation("{Phase} finished {Iterations} iterations ({Updates} image updates)", phase, options.Iterations, totalUpdates);
        return state.Snapshot();
    }

    /// <summary>
    /// The evaluators' figures for a snapshot of the set, which is freed afterwards (the host keeps no reference). A stop
    /// during the evaluation (a long transfer) checkpoints the finished updates, with the evaluation marked as owed (a
    /// resumed run does it first), before it ends the run.
    /// </summary>
    private IReadOnlyDictionary<string, double> Evaluate(SyntheticSet state, Func<IEnumerable<KeyValuePair<string, Tensor>>> unfinishedIterationTensors)
    {
        var snapshot = state.Snapshot();
        try
        {
            var metrics = run.Evaluate(snapshot);
            state.EvaluationPending = false;
            return metrics;
        }
        catch (OperationCanceledException)
        {
            state.EvaluationPending = true;
            Save(state, unfinishedIterationTensors);
            throw;
        }
        finally
        {
            snapshot.Images.Dispose();
            snapshot.Targets.Dispose();
            snapshot.Classes.Dispose();
        }
    }

    private void Save(SyntheticSet state, Func<IEnumerable<KeyValuePair<string, Tensor>>> unfinishedIterationTensors) =>
        state.SaveCheckpoint(run, state.Updates % updatesPerIteration == 0 ? [] : unfinishedIterationTensors());
}
