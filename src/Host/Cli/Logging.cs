using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Distillery.Host.Cli;

/// <summary>
/// Serilog to the console (short lines) and, for runs, to run.log in the run folder (everything, with
/// exceptions). The console level can be raised while a progress bar owns the terminal.
/// </summary>
public static class Logging
{
    public static LoggingLevelSwitch ConsoleLevel { get; } = new(LogEventLevel.Information);

    public static Logger Create(bool verbose, string? logFile = null)
    {
        ConsoleLevel.MinimumLevel = verbose ? LogEventLevel.Debug : LogEventLevel.Information;
        var configuration = new LoggerConfiguration()
            .MinimumLevel.Debug()
            .MinimumLevel.Override("Microsoft", LogEventLevel.Warning)
            .WriteTo.Console(levelSwitch: ConsoleLevel, standardErrorFromLevel: LogEventLevel.Warning,
                outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}" + (verbose ? "{Exception}" : ""));
        if (logFile is not null)
            configuration = configuration.WriteTo.File(logFile,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}");
        return configuration.CreateLogger();
    }
}
