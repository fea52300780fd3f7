using System.Collections.Concurrent;
using Distillery.Engine.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Distillery.Service;

/// <summary>Options of `distillery serve`.</summary>
/// <param name="QueueFolder">The queue folder (inbox/, running/, done/, failed/, runs/, logs/).</param>
/// <param name="Concurrency">Runs at once in this service.</param>
/// <param name="Runs">What every child run gets: the service's plugin folders, its thread count, the manifest-plugins opt-in.</param>
/// <param name="PollInterval">How often inbox/ and running/ are looked at when idle.</param>
/// <param name="Retries">How many times a run that failed with exit 3 is run again from its last checkpoint.</param>
/// <param name="Lease">How long a claim vouches for its item without renewal (renewed every third of it).</param>
public sealed record QueueOptions(string QueueFolder, int Concurrency, ChildRunOptions Runs, TimeSpan PollInterval,
                                  int Retries, TimeSpan Lease);

/// <summary>
/// Works through the queue folder unattended, alongside any other services on the same folder: it claims manifests
/// from inbox/ as they arrive and takes over items in running/ whose owner is gone (at start and continuously),
/// runs each (up to <see cref="QueueOptions.Concurrency"/> at once, retrying exit-3 failures from their checkpoint),
/// renews its leases meanwhile, and files each under done/ or failed/ with its reasons. On shutdown the runs stop
/// with a checkpoint and are released, to resume under the next service.
/// </summary>
public sealed class QueueService(QueueOptions options, ILogger<QueueService> logger) : BackgroundService
{
    private readonly QueueFolders _queue = new(options.QueueFolder);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _held = new();
    private QueueOwnership _ownership = null!;
    private ItemFiler _filer = null!;

    /// <summary>The error that stopped the service, if one did (then `serve` exits with <see cref="ExitCodes.RunFailed"/>).</summary>
    public Exception? Fault { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        try
        {
            _queue.Create();
            _ownership = new QueueOwnership(_queue, Guid.NewGuid().ToString("N")[..12], options.Lease, logger);
            _filer = new ItemFiler(_queue, _ownership, logger);
            var self = ProcessIdentity.Current;
            logger.LogInformation("Serving queue {Queue} as service {Instance} on {Host} (pid {Pid}) with {Concurrency} concurrent run(s), {Retries} retries",
                _queue.Root, _ownership.Instance, self.Host, self.Pid, options.Concurrency, options.Retries);
            await ServeAsync(stopping);
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            Fault = e;
            logger.LogCritical(e, "The queue service stopped: {Message}", e.Message);
            throw; // the host stops (BackgroundServiceExceptionBehavior.StopHost)
        }
    }

    private async Task ServeAsync(CancellationToken stopping)
    {
        using var slots = new SemaphoreSlim(options.Concurrency);
        var active = new List<Task>();
        // Leases are renewed until the last run has stopped, which may be well after the stop was asked for.
        using var renewing = new CancellationTokenSource();
        var renewal = RenewLeasesAsync(renewing.Token);
        while (!stopping.IsCancellationRequested)
        {
            // Wait for a free slot before claiming, so inbox/ stays the queue and running/ holds only what runs.
            try { await slots.WaitAsync(stopping); }
            catch (OperationCanceledException) { break; }
            var next = NextItem();
            if (next is not { } item)
            {
                slots.Release();
                await Delay(options.PollInterval, stopping);
                continue;
            }
            var lost = new CancellationTokenSource();
            _held[QueueFolders.IdOf(item.Path)] = lost;
            active.Add(Task.Run(async () =>
            {
                try { await ProcessAsync(item.Path, item.Previous, stopping, lost.Token); }
                catch (Exception e)
                {
                    logger.LogError(e, "{Item}: unexpected error; it stays in running/ for the next service", QueueFolders.IdOf(item.Path));
                }
                finally
                {
                    _held.TryRemove(QueueFolders.IdOf(item.Path), out _);
                    lost.Dispose();
                    slots.Release();
                }
            }, CancellationToken.None));
            active.RemoveAll(t => t.IsCompleted);
        }
        await Task.WhenAll(active);
        await renewing.CancelAsync();
        await renewal;
        logger.LogInformation("Queue service stopped; unfinished items stay in running/ and resume under the next service");
    }

    /// <summary>An item of running/ whose owner is gone, else the oldest claimable inbox manifest, else null.</summary>
    private (string Path, ItemOwner? Previous)? NextItem()
    {
        try
        {
            foreach (var manifest in QueueFolders.Manifests(_queue.Running))
                if (!_held.ContainsKey(QueueFolders.IdOf(manifest)) && _ownership.TryTakeOver(manifest, out var previous))
                    return (manifest, previous);
            _ownership.RemoveStaleOwners();
            return ClaimNext() is { } claimed ? (claimed, null) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("Cannot look at the queue folder {Queue}: {Message}; trying again", _queue.Root, e.Message);
            return null;
        }
    }

    private string? ClaimNext() =>
        QueueFolders.Manifests(_queue.Inbox).Select(_ownership.Claim).FirstOrDefault(claimed => claimed is not null);

    /// <summary>Renews the lease of every held item each third of the lease; an item another service took over is given up.</summary>
    private async Task RenewLeasesAsync(CancellationToken done)
    {
        while (!done.IsCancellationRequested)
        {
            await Delay(options.Lease / 3, done);
            if (_held.IsEmpty) continue;
            try
            {
                foreach (var id in _ownership.Renew(_held.Keys))
                {
                    logger.LogError("Lost {Item}: its owner file names another service (this one's lease ran out); stopping its run here", id);
                    if (_held.TryGetValue(id, out var lost)) lost.Cancel();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogError("Cannot renew the leases of {Items}: {Message}; trying again in {Seconds:F0} s",
                    string.Join(", ", _held.Keys), e.Message, (options.Lease / 3).TotalSeconds);
            }
        }
    }

    private async Task ProcessAsync(string runningPath, ItemOwner? previous, CancellationToken stopping, CancellationToken lost)
    {
        var id = QueueFolders.IdOf(runningPath);
        if (previous?.Filing is { } pending)
        {
            logger.LogInformation("{Item} had finished under {Owner}: filing it into {Folder}/", id, QueueOwnership.Describe(previous), pending);
            await _filer.FileAsync(runningPath, pending, stopping);
            return;
        }

        var reasons = QueueFolders.ReasonFile(_queue.Running, id);
        var attempts = AttemptLog.FailedAttempts(reasons) + 1;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping, lost);
        while (true)
        {
            logger.LogInformation("Running {Item}{Attempt}", id, attempts > 1 ? $" (attempt {attempts} of {options.Retries + 1})" : "");
            var outcome = await RunAsync(runningPath, id, stop.Token);
            if (lost.IsCancellationRequested) return; // its new owner goes on with it
            if (outcome.ExitCode == ExitCodes.Success)
            {
                if (await _filer.FileAsync(runningPath, "done", stopping)) logger.LogInformation("Done {Item}", id);
                return;
            }
            if (stopping.IsCancellationRequested && outcome.ExitCode == ExitCodes.Cancelled)
            {
                ReleaseAfterStop(id);
                return;
            }

            var reason = Reason(outcome);
            try { AttemptLog.Append(reasons, attempts, $"service {_ownership.Instance}", reason); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogError("Cannot record the reason of attempt {Attempt} of {Item} in {File}: {Message}; the reason was: {Reason}",
                    attempts, id, reasons, e.Message, reason);
            }
            if (outcome.ExitCode == ExitCodes.RunFailed && attempts <= options.Retries)
            {
                logger.LogWarning("Attempt {Attempt} of {Item} failed: {Reason}; retrying from its last checkpoint", attempts, id, LastLine(reason));
                attempts++;
                await Delay(TimeSpan.FromSeconds(attempts), stop.Token);
                if (stop.IsCancellationRequested)
                {
                    if (!lost.IsCancellationRequested) ReleaseAfterStop(id);
                    return;
                }
                continue;
            }
            if (await _filer.FileAsync(runningPath, "failed", stopping))
                logger.LogWarning("Failed {Item} after {Attempts} attempt(s): {Reason}", id, attempts, LastLine(reason));
            return;
        }
    }

    private async Task<RunProcess.Outcome> RunAsync(string runningPath, string id, CancellationToken stop)
    {
        // An entry that is not a regular file with a usable name is filed unread (trust boundary: README, "Who can do what").
        if (InboxEntry.Refusal(runningPath) is { } refusal) return new RunProcess.Outcome(ExitCodes.InvalidInput, $"error: {refusal}");
        try
        {
            return await RunProcess.RunAsync(runningPath, _queue.RunFolder(id), options.Runs, stop);
        }
        catch (Exception e)
        {
            return new RunProcess.Outcome(-1, $"error: could not start the run: {e.Message}");
        }
    }

    /// <summary>A stopped item is given up at once, so another live service may resume it without waiting for the lease.</summary>
    private void ReleaseAfterStop(string id)
    {
        try
        {
            _ownership.Release(id);
            logger.LogInformation("Stopped {Item} with a checkpoint; it resumes under the next service", id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("Stopped {Item} with a checkpoint, but cannot release it: {Message}; it is taken over once this service has exited", id, e.Message);
        }
    }

    private static string LastLine(string reason) => reason.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];

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

    private static async Task Delay(TimeSpan delay, CancellationToken stopping)
    {
        try { await Task.Delay(delay, stopping); }
        catch (OperationCanceledException) { }
    }
}
