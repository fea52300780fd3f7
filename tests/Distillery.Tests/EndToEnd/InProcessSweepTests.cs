using System.Text.Json.Nodes;
using Distillery.Engine.Runs;
using Distillery.Tests.Service;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// One `distillery run` of a two-point sweep, both points in one process — a large point (4,000 real images: a
/// 4,000 × 4,000 kernel matrix and its Cholesky factor) then a small one (10 images) — watched from outside through
/// /proc/&lt;pid&gt;/maps while it runs.
/// </summary>
public sealed class InProcessSweepFixture : IDisposable
{
    private readonly ScratchFolder _scratch = new();

    /// <summary>The sweep's folder; its points are the sub-folders imagesPerClass-400 and imagesPerClass-1.</summary>
    public string Folder => _scratch.Combine("sweep");

    /// <summary>The run's exit code.</summary>
    public int ExitCode { get; }

    /// <summary>The run's exit code and output, for failure messages.</summary>
    public string Report { get; }

    /// <summary>The file names of every DLL mapped into the run's process at any of the samples taken while it ran.</summary>
    public IReadOnlySet<string> LoadedAssemblies { get; }

    /// <summary>Samples of the mapping taken after the first point had written its metrics.json: a whole run had been through.</summary>
    public int SamplesAfterFirstPoint { get; }

    public InProcessSweepFixture()
    {
        var manifest = new JsonObject
        {
            ["name"] = "peaks",
            ["seed"] = 0,
            ["dataset"] = new JsonObject { ["name"] = "fashion-mnist-sample" },
            ["preprocess"] = new JsonArray(new JsonObject { ["name"] = "standardize" }),
            ["kernel"] = new JsonObject { ["name"] = "fc", ["options"] = new JsonObject { ["depth"] = 1 } },
            ["algorithm"] = new JsonObject { ["name"] = "natural", ["options"] = new JsonObject { ["imagesPerClass"] = 1 } },
            ["evaluation"] = new JsonArray(new JsonObject { ["name"] = "krr" }),
            ["output"] = new JsonObject { ["tensorboard"] = false },
            // The large point first: a peak that is the process's maximum so far would be reported again by the small one.
            ["sweep"] = new JsonObject { ["algorithm.options.imagesPerClass"] = new JsonArray(400, 1) },
        };
        var path = RunFixtures.Write(_scratch.Path, manifest);
        var firstMetrics = new RunFolder(Path.Combine(Folder, "imagesPerClass-400")).Metrics;

        using var run = DistilleryProcess.Start(_scratch.Path, "run", path, "--output", Folder);
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        var afterFirst = 0;
        while (!run.Process.HasExited)
        {
            var firstDone = File.Exists(firstMetrics);
            if (LoadedAssemblyFiles.Read(run.Process.Id) is { } sample)
            {
                loaded.UnionWith(sample);
                if (firstDone) afterFirst++;
            }
            Thread.Sleep(25);
        }
        var result = run.WaitForResult(TimeSpan.FromMinutes(10));
        (ExitCode, Report) = (result.ExitCode, result.ToString());
        (LoadedAssemblies, SamplesAfterFirstPoint) = (loaded, afterFirst);
    }

    public void Dispose() => _scratch.Dispose();
}

/// <summary>What the in-process sweep shows: each point's own peak memory, and that a run never loads ASP.NET Core.</summary>
public sealed class InProcessSweepTests(InProcessSweepFixture sweep) : IClassFixture<InProcessSweepFixture>
{
    [Fact]
    public void Each_point_of_an_in_process_sweep_reports_its_own_peak_memory()
    {
        sweep.ExitCode.Should().Be(0, sweep.Report);
        var large = RunMetrics.Read(new RunFolder(Path.Combine(sweep.Folder, "imagesPerClass-400")).Metrics);
        var small = RunMetrics.Read(new RunFolder(Path.Combine(sweep.Folder, "imagesPerClass-1")).Metrics);

        (large.SupportSize, small.SupportSize).Should().Be((4000, 10));
        small.PeakMemoryBytes.Should().BePositive();
        // The process's peak never falls: without a reset at each run's start the small point would report at least the large one's.
        small.PeakMemoryBytes.Should().BeLessThan(large.PeakMemoryBytes,
            "the second point's peak is its own, not the process's maximum since the first point");
    }

    [Fact]
    public void A_run_loads_no_ASP_NET_Core_assembly()
    {
        sweep.ExitCode.Should().Be(0, sweep.Report);
        sweep.SamplesAfterFirstPoint.Should().BePositive("the process was watched after a whole run (data, kernel, evaluation, outputs) had been through");
        // The check sees what it should: the engine, libtorch's managed side and the plugins the run used.
        sweep.LoadedAssemblies.Should().Contain(["distillery.dll", "Distillery.Engine.dll", "TorchSharp.dll", "Distillery.Baselines.dll", "Distillery.Evaluation.dll"]);

        LoadedAssemblyFiles.AspNetCore(sweep.LoadedAssemblies).Should().BeEmpty("`run` touches no ASP.NET Core type");
        sweep.LoadedAssemblies.Should().NotContain("Distillery.Service.dll", "`run` does not need the queue service");
    }

    [Fact]
    public void Serve_with_a_status_page_loads_ASP_NET_Core_as_the_control_of_the_same_check()
    {
        using var queue = new QueueFixture();
        var port = QueueFixture.FreePort();
        using var service = queue.Serve(1, "--status-port", port.ToString());
        using var http = new HttpClient();
        QueueFixture.WaitUntil(() =>
        {
            try { return http.GetAsync($"http://127.0.0.1:{port}/api/runs").Result.IsSuccessStatusCode; }
            catch (AggregateException) { return false; }
        }, "the status page", service);

        var loaded = LoadedAssemblyFiles.Read(service.Process.Id);
        service.Signal("TERM");
        service.WaitForResult(TimeSpan.FromMinutes(2)).ExitCode.Should().Be(0);

        loaded.Should().NotBeNull("the service was running when its mapping was read");
        LoadedAssemblyFiles.AspNetCore(loaded!).Should().Contain("Microsoft.AspNetCore.Server.Kestrel.Core.dll");
        loaded.Should().Contain("Distillery.Service.dll");
    }
}

/// <summary>The managed assemblies a process has loaded, as Linux lists its mapped files in /proc/&lt;pid&gt;/maps.</summary>
internal static class LoadedAssemblyFiles
{
    /// <summary>The file names of the DLLs mapped into process <paramref name="pid"/>; null once it has exited.</summary>
    public static IReadOnlySet<string>? Read(int pid)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/maps")
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(fields => fields.Length >= 6 && fields[5].EndsWith(".dll", StringComparison.Ordinal))
                .Select(fields => Path.GetFileName(fields[5]))
                .ToHashSet(StringComparer.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// ASP.NET Core's own assemblies among <paramref name="files"/>, by file name. Not by folder: with the executable
    /// referencing the ASP.NET Core shared framework, Microsoft.Extensions.* (logging, the generic host) load from its
    /// folder on every command; they are not ASP.NET Core.
    /// </summary>
    public static IReadOnlyList<string> AspNetCore(IEnumerable<string> files) =>
        files.Where(f => f.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
}
