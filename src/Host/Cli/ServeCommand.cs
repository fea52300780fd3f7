using Distillery.Host.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;

namespace Distillery.Host.Cli;

/// <summary>
/// <c>distillery serve</c>: the queue as a long-lived hosted service (systemd-aware), optionally with a read-only
/// status page on 127.0.0.1.
/// </summary>
public static class ServeCommand
{
    /// <summary>The command line of `serve`.</summary>
    public sealed record Arguments(string Queue, int Concurrency, int? StatusPort, string[] PluginFolders, TimeSpan ShutdownTimeout, bool Verbose,
                                   int Retries, TimeSpan Lease);

    /// <summary>Serves until stopped: 0 after a stop by SIGTERM or Ctrl+C, <see cref="ExitCodes.RunFailed"/> when an error stopped the service.</summary>
    public static async Task<int> ExecuteAsync(Arguments arguments)
    {
        var queue = new QueueFolders(arguments.Queue);
        queue.Create();
        await using var logger = Logging.Create(arguments.Verbose, queue.ServiceLog(ProcessIdentity.Current));
        var options = new QueueOptions(queue.Root, arguments.Concurrency, arguments.PluginFolders.Select(Path.GetFullPath).ToList(),
            TimeSpan.FromMilliseconds(500), arguments.Retries, arguments.Lease);

        void Configure(IServiceCollection services)
        {
            services.AddSerilog(logger, dispose: false);
            services.AddSystemd();
            services.Configure<HostOptions>(o => o.ShutdownTimeout = arguments.ShutdownTimeout);
            services.AddSingleton(options);
            services.AddSingleton<QueueService>();
            services.AddHostedService(provider => provider.GetRequiredService<QueueService>());
        }

        // An error that stops the service ends the host normally; the exit code must still say so.
        async Task<int> RunAsync(IHost host)
        {
            var service = host.Services.GetRequiredService<QueueService>();
            try { await host.RunAsync(); }
            catch (Exception) when (service.Fault is not null) { }
            if (service.Fault is not { } fault) return ExitCodes.Success;
            Console.Error.WriteLine($"error: the queue service stopped: {fault.Message} (details in {queue.ServiceLog(ProcessIdentity.Current)})");
            return ExitCodes.RunFailed;
        }

        if (arguments.StatusPort is not { } port)
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
            Configure(builder.Services);
            return await RunAsync(builder.Build());
        }

        var web = WebApplication.CreateSlimBuilder();
        web.WebHost.UseUrls($"http://127.0.0.1:{port}");
        Configure(web.Services);
        var app = web.Build();
        StatusEndpoints.Map(app, new QueueStatus(queue.Root));
        logger.Information("Status page on http://127.0.0.1:{Port}/", port);
        return await RunAsync(app);
    }
}
