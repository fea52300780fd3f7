using Distillery.Abstractions;
using static TorchSharp.torch;

namespace Distillery.Engine.Runs;

/// <summary>
/// How many CPU threads a run's tensor work uses. libtorch defaults to one OpenMP thread per core; runs side by side
/// (serve --concurrency N) then oversubscribe the cores, and OpenMP's spinning threads slow every run down many times.
/// The service gives each child run max(1, cores / N) threads — in its environment (OMP_NUM_THREADS, MKL_NUM_THREADS,
/// read when libtorch starts) and as <c>run --threads</c> — and every run logs the count it uses.
/// </summary>
public static class RunThreads
{
    /// <summary>The environment variables that size the OpenMP and MKL thread pools of a process that has not started them yet.</summary>
    public static readonly string[] EnvironmentVariables = ["OMP_NUM_THREADS", "MKL_NUM_THREADS"];

    /// <summary>Threads for each of <paramref name="concurrency"/> runs side by side on this machine's cores (at least 1).</summary>
    public static int PerRun(int concurrency) => Math.Max(1, Environment.ProcessorCount / Math.Max(1, concurrency));

    /// <summary>Checks a requested count: a <see cref="DistilleryException"/> naming <paramref name="option"/> unless it is ≥ 1.</summary>
    public static int Require(int threads, string option) =>
        threads >= 1 ? threads : throw new DistilleryException($"{option}: must be at least 1, got {threads}");

    private static int? _requested;

    /// <summary>Sets this process's torch thread count when one is requested (before the run starts); returns the count in effect.</summary>
    public static int Apply(int? requested)
    {
        if (requested is { } threads)
        {
            set_num_threads(threads);
            _requested = threads;
        }
        return get_num_threads();
    }

    /// <summary>For the run's log: "2 of 8 cores (--threads)", naming where the count came from.</summary>
    public static string Describe()
    {
        var source = _requested is not null ? "--threads"
            : EnvironmentVariables.FirstOrDefault(v => Environment.GetEnvironmentVariable(v) is { Length: > 0 }) is { } variable
                ? $"{variable}={Environment.GetEnvironmentVariable(variable)}"
                : "libtorch's default; --threads N to change";
        return $"{get_num_threads()} of {Environment.ProcessorCount} cores ({source})";
    }
}
