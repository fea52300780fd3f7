using Microsoft.Extensions.Logging;

namespace Distillery.Service;

/// <summary>
/// Moves an item whose run has ended from running/ into done/ or failed/, with its reason file. Each move is checked
/// as it happens: a failure (a folder not writable, not a folder, a full disk) is logged at once, recorded in the
/// item's owner file for <c>distillery status</c>, and retried with exponential backoff (1 s doubling to 1 min) until
/// it succeeds or the service stops; the item then stays in running/ marked as waiting to be filed, and whichever
/// service takes it over files it without running it again.
/// </summary>
public sealed class ItemFiler(QueueFolders queue, QueueOwnership ownership, ILogger logger)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1), LongestRetry = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Files the item at <paramref name="runningPath"/> into <paramref name="target"/> ("done" or "failed"). True when
    /// filed; false when the service stopped first or another service owns the item now.
    /// </summary>
    public async Task<bool> FileAsync(string runningPath, string target, CancellationToken stopping)
    {
        var id = QueueFolders.IdOf(runningPath);
        var folder = Path.Combine(queue.Root, target);
        var delay = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!ownership.MarkFiling(id, target, problem: null))
                {
                    logger.LogError("{Item} is owned by another service now; this one leaves it alone", id);
                    return false;
                }
                var reasons = QueueFolders.ReasonFile(queue.Running, id);
                if (File.Exists(reasons)) File.Move(reasons, QueueFolders.ReasonFile(folder, id), overwrite: true);
                File.Move(runningPath, Path.Combine(folder, Path.GetFileName(runningPath)), overwrite: false);
                ownership.Release(id);
                if (attempt > 1) logger.LogInformation("Filed {Item} into {Folder}/ at try {Try}", id, target, attempt);
                return true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                var problem = $"cannot move it into {target}/ (try {attempt}, next in {delay.TotalSeconds:F0} s): {e.Message}";
                logger.LogError("Cannot file {Item} into {Folder}/: {Message}; it stays in running/ and is tried again in {Seconds:F0} s (try {Try})",
                    id, target, e.Message, delay.TotalSeconds, attempt);
                ShowProblem(id, target, problem);
            }
            try { await Task.Delay(delay, stopping); }
            catch (OperationCanceledException)
            {
                logger.LogWarning("{Item} is not filed yet: it stays in running/, and the next service to take it over files it into {Folder}/", id, target);
                return false;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, LongestRetry.Ticks));
        }
    }

    /// <summary>Puts the problem in the owner file at once, for `distillery status`; the log has it already if this fails too.</summary>
    private void ShowProblem(string id, string target, string problem)
    {
        try { ownership.MarkFiling(id, target, problem); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
