using Distillery.Abstractions;

namespace Distillery.Host.Runs;

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
    /// cancelled) while another process holds it.
    /// </summary>
    /// <exception cref="DistilleryException">The folder was still held when the patience ran out.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting.</exception>
    public static RunFolderLock Acquire(RunFolder folder, TimeSpan patience, CancellationToken cancellation)
    {
        var deadline = patience == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : DateTime.UtcNow + patience;
        while (true)
        {
            try
            {
                return new RunFolderLock(new FileStream(folder.Lock, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                cancellation.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(200));
                cancellation.ThrowIfCancellationRequested();
            }
            catch (IOException)
            {
                throw new DistilleryException($"{folder.Path} is in use by another distillery process (waited {patience.TotalSeconds:F0} s)");
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
