using Distillery.Host.Cli;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distillery.Host.Service;

/// <summary>Options of `distillery serve`.</summary>
public sealed record QueueOptions(string QueueFolder, int Concurrency, ChildRunOptions Runs, TimeSpan PollInterval);

/// <summary>
/// Works through the queue folder unattended: on start it resumes what a crash left in running/, then claims
/// manifests from inbox/ as they arrive, runs each (up to <see cref="QueueOptions.Concurrency"/> at once) and
/// files it under done/ or failed/ with the reason. On shutdown the runs stop with a checkpoint and stay in
/// running/, to resume on the next start.
/// </summary>
public sealed class QueueService(QueueOptions options, ILogger<QueueService> logger) : BackgroundService
{
    private readonly QueueFolders _queue = new(options.QueueFolder);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        _queue.Create();
        logger.LogInformation("Serving queue {Queue} with {Concurrency} concurrent run(s)", _queue.Root, options.Concurrency);
        using var slots = new SemaphoreSlim(options.Concurrency);
        var active = new List<Task>();

        // Items left in running/ by a crash or a stop come first: they resume from their checkpoints.
        var pending = new Queue<string>(QueueFolders.Manifests(_queue.Running));
        if (pending.Count > 0) logger.LogInformation("Resuming {Count} item(s) left in running/", pending.Count);

        while (!stopping.IsCancellationRequested)
        {
            // Wait for a free slot before claiming, so inbox/ stays the queue and running/ holds only what runs.
            try { await slots.WaitAsync(stopping); }
            catch (OperationCanceledException) { break; }
            var item = pending.Count > 0 ? pending.Dequeue() : ClaimNext();
            if (item is null)
            {
                slots.Release();
                await Delay(options.PollInterval, stopping);
                continue;
            }
            active.Add(Task.Run(async () =>
            {
                try { await ProcessAsync(item, stopping); }
                finally { slots.Release(); }
            }, CancellationToken.None));
            active.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(active);
        logger.LogInformation("Queue service stopped; unfinished items stay in running/ and resume on the next start");
    }

    private string? ClaimNext() =>
        QueueFolders.Manifests(_queue.Inbox).Select(Claim).FirstOrDefault(claimed => claimed is not null);

    /// <summary>Atomically moves an inbox manifest to running/ under a unique id; null when another worker took it.</summary>
    private string? Claim(string inboxPath)
    {
        var id = QueueFolders.IdOf(inboxPath);
        var extension = Path.GetExtension(inboxPath);
        for (var n = 2; Taken(id); n++) id = $"{QueueFolders.IdOf(inboxPath)}-{n}";
        var target = Path.Combine(_queue.Running, id + extension);
        try
        {
            File.Move(inboxPath, target, overwrite: false);
            logger.LogInformation("Claimed {Item}", id);
            return target;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // claimed by someone else, or still being written
        }
    }

    /// <summary>An id is taken once any item under it has been claimed: its run folder exists from then on.</summary>
    private bool Taken(string id) =>
        Directory.Exists(_queue.RunFolder(id))
        || new[] { _queue.Running, _queue.Done, _queue.Failed }.Any(folder => QueueFolders.Manifests(folder).Any(m => QueueFolders.IdOf(m) == id));

    private async Task ProcessAsync(string runningPath, CancellationToken stopping)
    {
        var id = QueueFolders.IdOf(runningPath);
        logger.LogInformation("Running {Item}", id);
        RunProcess.Outcome outcome;
        // An entry that is not a regular file with a usable name is filed unread (trust boundary: README, "Who can do what").
        if (InboxEntry.Refusal(runningPath) is { } refusal)
            outcome = new RunProcess.Outcome(ExitCodes.InvalidInput, $"error: {refusal}");
        else try
        {
            outcome = await RunProcess.RunAsync(runningPath, _queue.RunFolder(id), options.Runs, stopping);
        }
        catch (Exception e)
        {
            outcome = new RunProcess.Outcome(-1, $"error: could not start the run: {e.Message}");
        }

        if (outcome.ExitCode == ExitCodes.Success)
        {
            Move(runningPath, _queue.Done);
            logger.LogInformation("Done {Item}", id);
        }
        else if (stopping.IsCancellationRequested && outcome.ExitCode == ExitCodes.Cancelled)
        {
            logger.LogInformation("Stopped {Item} with a checkpoint; it resumes on the next start", id);
        }
        else
        {
            var reason = Reason(outcome);
            File.WriteAllText(_queue.ReasonFile(id), reason + Environment.NewLine);
            Move(runningPath, _queue.Failed);
            logger.LogWarning("Failed {Item}: {Reason}", id, reason.Split('\n')[0]);
        }
    }

    /// <summary>What went wrong, in the run's own words where it gave any.</summary>
    private static string Reason(RunProcess.Outcome outcome)
    {
        var lines = outcome.ErrorOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        var kind = outcome.ExitCode switch
        {
            ExitCodes.InvalidInput => "invalid input",
            ExitCodes.RunFailed => "the run failed",
            ExitCodes.Cancelled => "cancelled",
            137 => "the run process was killed (SIGKILL; out of memory?)",
            _ => $"the run process ended with exit code {outcome.ExitCode}",
        };
        return lines.Count > 0 ? $"{kind} (exit {outcome.ExitCode}):\n{string.Join("\n", lines)}" : $"{kind} (exit {outcome.ExitCode})\n{outcome.ErrorOutput.Trim()}";
    }

    private static void Move(string path, string folder) =>
        File.Move(path, Path.Combine(folder, Path.GetFileName(path)), overwrite: true);

    private static async Task Delay(TimeSpan delay, CancellationToken stopping)
    {
        try { await Task.Delay(delay, stopping); }
        catch (OperationCanceledException) { }
    }
}
