using Distillery.Abstractions;
using Distillery.Engine.Manifests;
using Distillery.Engine.Outputs;
using Distillery.Engine.Runs;
using Distillery.Engine.Sweeps;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Spectre.Console;

namespace Distillery.Host.Cli;

/// <summary>
/// <c>distillery run</c>: validate every point, then run each into its run folder on the generic host. A sweep
/// runs its points in order (finished ones are skipped, interrupted ones resume) and ends with its results table.
/// </summary>
public static class RunCommand
{
    /// <summary>The command line of `run`.</summary>
    /// <param name="LockPatience">How long to wait for a run folder another process holds.</param>
    /// <param name="Threads">Torch threads for the run (--threads); null: the environment's or libtorch's default.</param>
    /// <param name="AllowManifestPlugins">False when the manifest is untrusted (set by serve): its plugins entry is refused.</param>
    public sealed record Arguments(string Manifest, string[] Overrides, string? Output, string[] PluginFolders, bool Fresh, bool Verbose,
                                   TimeSpan LockPatience, int? Threads = null, bool AllowManifestPlugins = true);

    public static async Task<int> ExecuteAsync(Arguments arguments, CancellationToken cancellation)
    {
        ExperimentInput input;
        string experimentFolder;
        try
        {
            if (arguments.Threads is { } threads) RunThreads.Require(threads, "--threads");
            input = ExperimentInput.Load(arguments.Manifest, arguments.Overrides, arguments.PluginFolders, arguments.AllowManifestPlugins);
            experimentFolder = input.ExperimentFolder(arguments.Output);
            var source = arguments.Output is not null ? "--output" : input.Manifest.Output.Directory is not null ? "output.directory" : "run folder";
            if (arguments.Fresh) DeleteForFresh(experimentFolder, source);
            WritableFolder.Ensure(experimentFolder, source);
            RunThreads.Apply(arguments.Threads);
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, arguments.Verbose);
        }

        var failed = new List<string>();
        var worst = ExitCodes.Success;
        foreach (var point in input.Points)
        {
            var code = await RunPointAsync(input, point, new RunFolder(point.RunFolder(experimentFolder)), arguments.Verbose,
                arguments.LockPatience, cancellation);
            if (code == ExitCodes.Cancelled || !input.IsSweep) return code;
            if (code == ExitCodes.Success) continue;
            failed.Add(point.Point.Name);
            // A sweep whose failures are all input errors is an input error (exit 2, which the queue does not retry).
            worst = code == ExitCodes.InvalidInput && worst != ExitCodes.RunFailed ? ExitCodes.InvalidInput : ExitCodes.RunFailed;
        }

        var (finished, skipped) = PointRecord.Collect(experimentFolder);
        foreach (var problem in skipped) Console.Error.WriteLine($"warning: results table: skipped {problem}");
        var table = new ResultsTable(finished);
        table.Write(experimentFolder);
        Console.WriteLine(table.ToMarkdown());
        Console.WriteLine($"Results table: {Path.Combine(experimentFolder, "results.md")} (and results.csv)");
        if (failed.Count == 0) return ExitCodes.Success;
        Console.Error.WriteLine($"error: {failed.Count} of {input.Points.Count} sweep points failed: {string.Join(", ", failed)}");
        return worst;
    }

    /// <summary>--fresh: the folder is deleted first; one that cannot be is an error before anything runs.</summary>
    private static void DeleteForFresh(string folder, string source)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DistilleryException($"--fresh: {source} {folder} cannot be deleted: {e.Message}");
        }
    }

    /// <summary>
    /// Runs one point into its folder: checks the folder can be written, takes its lock (waiting up to
    /// <paramref name="lockPatience"/> for a process that holds it), and only then opens run.log, so two processes
    /// never write one log.
    /// </summary>
    internal static async Task<int> RunPointAsync(ExperimentInput input, PlannedPoint point, RunFolder folder, bool verbose,
                                                TimeSpan lockPatience, CancellationToken cancellation)
    {
        RunFolderLock folderLock;
        try
        {
            // Ensure creates the folder and names what is wrong with it; Acquire reports its own failures the same way.
            WritableFolder.Ensure(folder.Path, "run folder");
            folderLock = RunFolderLock.Acquire(folder, lockPatience, cancellation,
                waiting: () => Console.WriteLine($"Waiting for {folder.Path}: another distillery process runs in it (e.g. one finishing its step after its service died)"));
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"Cancelled while waiting for {folder.Path}, which another distillery process holds");
            return ExitCodes.Cancelled;
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, verbose);
        }
        using (folderLock) return await RunLockedPointAsync(input, point, folder, verbose, cancellation);
    }

    private static async Task<int> RunLockedPointAsync(ExperimentInput input, PlannedPoint point, RunFolder folder, bool verbose, CancellationToken cancellation)
    {
        await using var logger = Logging.Create(verbose, folder.Log);
        foreach (var problem in input.Catalog.Problems) logger.Warning("{Problem}", problem.Warning);
        logger.Information("Experiment {Name}{Point} → {Folder}", input.Manifest.Name,
            point.Point.Name.Length > 0 ? $" [{point.Point.Name}]" : "", folder.Path);
        logger.Information("Threads: {Threads}", RunThreads.Describe());

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddSerilog(logger, dispose: false);
        builder.Services.AddSingleton<ExperimentRunner>();
        using var host = builder.Build();
        var runner = host.Services.GetRequiredService<ExperimentRunner>();

        try
        {
            PointRecord.Write(folder.Path, input.Manifest.Name, point.Point);
            var metrics = await RunWithDisplayAsync(runner, point, folder, host.Services.GetRequiredService<ILoggerFactory>(), cancellation);
            // After the progress bar has released the terminal, so the figures are always seen.
            foreach (var (evaluator, figures) in metrics.Evaluations)
                foreach (var (name, value) in figures)
                    logger.Information("{Evaluator} {Figure}: {Value:G6}", evaluator, name, value);
            logger.Information("Done in {Seconds:F1} s; metrics in {Path}", metrics.WallSeconds, folder.Metrics);
            return ExitCodes.Success;
        }
        catch (OperationCanceledException)
        {
            logger.Warning("Cancelled: a checkpoint was written; run the same command again to resume");
            return ExitCodes.Cancelled;
        }
        catch (DistilleryException e)
        {
            logger.Debug(e, "Invalid input");
            return Errors.InvalidInput(e, verbose);
        }
        catch (Exception e)
        {
            logger.Error(e, "Run failed");
            return Errors.RunFailed(e, verbose);
        }
    }

    private static async Task<RunMetrics> RunWithDisplayAsync(ExperimentRunner runner, PlannedPoint point, RunFolder folder,
                                                            ILoggerFactory loggers, CancellationToken cancellation)
    {
        // The run is CPU-bound and synchronous: keep it off the thread that handles Ctrl+C.
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var display = new LogProgressDisplay(loggers.CreateLogger("progress"));
            return await Task.Run(() => runner.Run(point.Plan, folder, display, cancellation), cancellation);
        }

        var level = Logging.ConsoleLevel.MinimumLevel;
        Logging.ConsoleLevel.MinimumLevel = LogEventLevel.Warning; // the bar owns the terminal; run.log keeps everything
        try
        {
            return await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(context => Task.Run(() => runner.Run(point.Plan, folder, new TerminalProgressDisplay(context), cancellation), cancellation));
        }
        finally
        {
            Logging.ConsoleLevel.MinimumLevel = level;
        }
    }
}
