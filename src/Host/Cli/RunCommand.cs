using Distillery.Abstractions;
using Distillery.Host.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Spectre.Console;

namespace Distillery.Host.Cli;

/// <summary><c>distillery run</c>: validate, then run one experiment into its run folder on the generic host.</summary>
public static class RunCommand
{
    public sealed record Arguments(string Manifest, string[] Overrides, string? Output, string[] PluginFolders, bool Fresh, bool Verbose);

    public static async Task<int> ExecuteAsync(Arguments arguments, CancellationToken cancellation)
    {
        ExperimentInput input;
        RunFolder folder;
        try
        {
            input = ExperimentInput.Load(arguments.Manifest, arguments.Overrides, arguments.PluginFolders);
            folder = new RunFolder(arguments.Output ?? input.Manifest.Output.Directory ?? Path.Combine("runs", input.Manifest.Name));
            if (arguments.Fresh && Directory.Exists(folder.Path)) Directory.Delete(folder.Path, recursive: true);
            Directory.CreateDirectory(folder.Path);
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, arguments.Verbose);
        }

        await using var logger = Logging.Create(arguments.Verbose, folder.Log);
        foreach (var problem in input.Catalog.Problems) logger.Warning("Plugin skipped: {Problem}", problem.ToString());
        logger.Information("Experiment {Name} → {Folder}", input.Manifest.Name, folder.Path);

        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddSerilog(logger, dispose: false);
        builder.Services.AddSingleton<ExperimentRunner>();
        using var host = builder.Build();
        var runner = host.Services.GetRequiredService<ExperimentRunner>();

        try
        {
            var metrics = await RunWithDisplayAsync(runner, input, folder, host.Services.GetRequiredService<ILoggerFactory>(), cancellation);
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
            return Errors.InvalidInput(e, arguments.Verbose);
        }
        catch (Exception e)
        {
            logger.Error(e, "Run failed");
            return Errors.RunFailed(e, arguments.Verbose);
        }
    }

    private static Task<RunMetrics> RunWithDisplayAsync(ExperimentRunner runner, ExperimentInput input, RunFolder folder,
                                                      ILoggerFactory loggers, CancellationToken cancellation)
    {
        // The run is CPU-bound and synchronous: keep it off the thread that handles Ctrl+C.
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            var display = new LogProgressDisplay(loggers.CreateLogger("progress"));
            return Task.Run(() => runner.Run(input.Plan, folder, display, cancellation), cancellation);
        }

        var level = Logging.ConsoleLevel.MinimumLevel;
        Logging.ConsoleLevel.MinimumLevel = LogEventLevel.Warning; // the bar owns the terminal; run.log keeps everything
        try
        {
            return AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(context => Task.Run(() => runner.Run(input.Plan, folder, new TerminalProgressDisplay(context), cancellation), cancellation));
        }
        finally
        {
            Logging.ConsoleLevel.MinimumLevel = level;
        }
    }
}
