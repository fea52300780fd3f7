namespace Distillery.Tests.Numerics;

/// <summary>
/// Memory pressure and concurrent load for the native-Scalar stress checks (also compiled into
/// benchmarks/ScalarLifetimeStress): one thread allocates and forces garbage collections (gen 0, and gen 2 one time
/// in three), waiting for finalizers each time, without pause; <c>burners</c> threads spin so that the working
/// thread is preempted inside native calls. Disposing stops and joins them all.
/// </summary>
internal sealed class GcPressure : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Thread> _threads = [];
    private long _collections;

    public GcPressure(int burners)
    {
        _threads.Add(new Thread(Collect) { IsBackground = true, Name = "gc-pressure" });
        for (var i = 0; i < burners; i++)
            _threads.Add(new Thread(Burn) { IsBackground = true, Name = $"cpu-burner-{i}" });
        _threads.ForEach(t => t.Start());
    }

    /// <summary>Garbage collections forced so far.</summary>
    public long Collections => Interlocked.Read(ref _collections);

    private void Collect()
    {
        var random = new Random(1);
        while (!_stop.IsCancellationRequested)
        {
            for (var i = 0; i < 200; i++) GC.KeepAlive(new byte[random.Next(16, 4096)]);
            GC.Collect(random.Next(3) == 0 ? 2 : 0);
            GC.WaitForPendingFinalizers();
            Interlocked.Increment(ref _collections);
        }
    }

    private void Burn()
    {
        var x = 1.0;
        while (!_stop.IsCancellationRequested) x = Math.Sqrt(x + 1);
        GC.KeepAlive(x);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _threads.ForEach(t => t.Join());
        _stop.Dispose();
    }
}
