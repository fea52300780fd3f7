using Distillery.Abstractions;

namespace Distillery.Engine.Runs;

/// <summary>
/// An exclusive lock on a run folder for as long as a process runs in it. A run whose previous process is still
/// stopping (e.g. an orphan finishing its step after its service was killed) waits for it rather than racing it.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    private readonly FileStream _stream;

    /// <summary>How long `run` and `task` wait for a folder another process holds before giving up (exit 2).</summary>
    public static readonly TimeSpan DefaultPatience = TimeSpan.FromSeconds(120);

    private RunFolderLock(FileStream stream) => _stream = stream;

    /// <summary>
    /// Takes the folder's lock, waiting up to <paramref name="patience"/> (<see cref="Timeout.InfiniteTimeSpan"/>: until
    /// cancelled) while another process holds it; <paramref name="waiting"/> is called once when the wait begins.
    /// </summary>
    /// <exception cref="DistilleryException">The folder was still held when the patience ran out, or cannot be locked at
    /// all (not writable, a read-only file system).</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public static RunFolderLock Acquire(RunFolder folder, TimeSpan patience, CancellationToken cancellation, Action? waiting = null)
    {
        var deadline = patience == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + patience;
        for (var first = true; ; first = false)
        {
            try
            {
                return new RunFolderLock(new FileStream(folder.Lock, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException e) when (IsHeldByAnother(e) && DateTime.UtcNow < deadline)
            {
                if (first) waiting?.Invoke();
                cancellation.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
                cancellation.ThrowIfCancellationRequested();
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
                throw new DistilleryException($"{folder.Path} is in use by another distillery process (waited {patience.TotalSeconds:F0} s)");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new DistilleryException($"{folder.Lock}: cannot lock the run folder: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Whether opening failed because another process holds the lock (flock's EWOULDBLOCK: 11 on Linux, 35 on macOS;
    /// ERROR_SHARING_VIOLATION on Windows), rather than for a reason that waiting cannot cure.
    /// </summary>
    private static bool IsHeldByAnother(IOException e) => e.HResult is 11 or 35 or unchecked((int)0x80070020);

    public void Dispose() => _stream.Dispose();
}
