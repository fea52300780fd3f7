namespace Distillery.Abstractions.Runs;

/// <summary>One progress event: a finished step, its loss, and any figures measured at that step.</summary>
public sealed record ProgressUpdate(long Step, double? Loss = null, IReadOnlyDictionary<string, double>? Metrics = null);

/// <summary>
/// Receives progress from long work. The host turns it into the progress log (JSON lines) and a bar on a
/// terminal (log lines otherwise).
/// </summary>
public interface IProgressReporter
{
    void Start(string phase, long totalSteps, long firstStep = 0);
    void Report(ProgressUpdate update);
}

public sealed class NullProgressReporter : IProgressReporter
{
    public static NullProgressReporter Instance { get; } = new();
    public void Start(string phase, long totalSteps, long firstStep = 0) { }
    public void Report(ProgressUpdate update) { }
}
