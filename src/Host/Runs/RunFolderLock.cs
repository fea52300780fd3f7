using Distillery.Abstractions;

namespace Distillery.Host.Runs;

/// <summary>
/// An exclusive lock on a run folder for as long as a process runs in it. A run whose previous process is still
/// stopping (e.g. an orphan finishing its step after its service was killed) waits for it rather than racing it.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    private readonly FileStream _stream;

    private RunFolderLock(FileStream stream) => _stream = stream;

    public static RunFolderLock Acquire(RunFolder folder, TimeSpan patience, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow + patience;
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
