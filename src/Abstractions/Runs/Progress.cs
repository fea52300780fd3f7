namespace Distillery.Abstractions.Runs;

/// <summary>One progress event: a finished step, its loss, and any figures measured at that step.</summary>
/// <param name="Step">Steps finished in the current phase (1-based for a step's report; 0 for the starting point).</param>
/// <param name="Loss">The step's loss, or null when the event has none (the step-0 evaluation, a block of Label Solve).</param>
/// <param name="Metrics">Figures measured at this step, e.g. the result of <see cref="DistillationContext.Evaluate"/>
/// (<c>krr.testAccuracy</c>); null or empty when none.</param>
public sealed record ProgressUpdate(long Step, double? Loss = null, IReadOnlyDictionary<string, double>? Metrics = null);

/// <summary>
/// Receives progress from long work. The host turns it into the progress log (JSON lines) and a bar on a
/// terminal (log lines otherwise).
/// </summary>
/// <remarks>Called from the plugin's own thread, one phase at a time; the host's implementation is not meant for concurrent calls.</remarks>
public interface IProgressReporter
{
    /// <summary>
    /// Starts (or, after a resume, continues) a phase: writes a <c>start</c> line to <c>progress.jsonl</c> and sets up the bar.
    /// </summary>
    /// <param name="phase">The phase's name, e.g. the algorithm's manifest name (<c>kip</c>) or <c>transfer</c>; it names the
    /// TensorBoard tags (<c>kip/loss</c>).</param>
    /// <param name="totalSteps">Steps of the whole phase (not only those left).</param>
    /// <param name="firstStep">The step resumed from (<see cref="Checkpoint.Step"/>); 0 on a fresh start.</param>
    void Start(string phase, long totalSteps, long firstStep = 0);

    /// <summary>Reports one event of the current phase: a line in <c>progress.jsonl</c>, the bar, TensorBoard scalars.</summary>
    /// <param name="update">The step, its loss and figures; non-finite values are written as null.</param>
    void Report(ProgressUpdate update);
}

/// <summary>A reporter that discards everything: what plugins get where progress is not shown, and for tests.</summary>
public sealed class NullProgressReporter : IProgressReporter
{
    /// <summary>The one instance (it has no state).</summary>
    public static NullProgressReporter Instance { get; } = new();

    /// <summary>Does nothing.</summary>
    /// <param name="phase">Ignored.</param>
    /// <param name="totalSteps">Ignored.</param>
    /// <param name="firstStep">Ignored.</param>
    public void Start(string phase, long totalSteps, long firstStep = 0) { }

    /// <summary>Does nothing.</summary>
    /// <param name="update">Ignored.</param>
    public void Report(ProgressUpdate update) { }
}
