using Distillery.Engine.Runs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Serilog;

namespace Distillery.Service;

/// <summary>
/// Hosts the <see cref="QueueService"/> until stopped (SIGTERM, Ctrl+C, or an error that stops it): in the generic host
/// (systemd-aware), or, with a status port, in ASP.NET Core's slim web host that also serves the status page. Every
/// ASP.NET Core type is touched here and in <see cref="StatusEndpoints"/> only, so no other command of the executable
/// loads ASP.NET Core's assemblies.
/// </summary>
public static class QueueHost
{
    /// <summary>
    /// Serves the queue; returns the process exit code: <see cref="ExitCodes.Success"/> after a stop,
    /// <see cref="ExitCodes.RunFailed"/> when an error stopped the service, <see cref="ExitCodes.ServiceUnusable"/>
    /// when the status port cannot be bound.
    /// </summary>
    /// <param name="options">The queue and what every run gets.</param>
    /// <param name="statusPort">Port of the status page on 127.0.0.1, or null for none. The caller checks it is free first.</param>
    /// <param name="shutdownTimeout">How long a stop waits for the runs to checkpoint.</param>
    /// <param name="logger">The service log (owned by the caller, not disposed here).</param>
    public static async Task<int> RunAsync(QueueOptions options, int? statusPort, TimeSpan shutdownTimeout, Serilog.ILogger logger)
    {
        var queue = new QueueFolders(options.QueueFolder);

        void Configure(IServiceCollection services)
        {
            services.AddSerilog(logger, dispose: false);
            services.AddSystemd();
            services.Configure<HostOptions>(o => o.ShutdownTimeout = shutdownTimeout);
            services.AddSingleton(options);
            services.AddSingleton<QueueService>();
            services.AddHostedService(provider => provider.GetRequiredService<QueueService>());
        }

        // An error that stops the service ends the host normally; the exit code must still say so. A host already
        // started (the status page's, to report a port it cannot bind) is only waited for: starting it again would
        // start a second queue service in this process.
        async Task<int> RunAsync(IHost host, bool started = false)
        {
            var service = host.Services.GetRequiredService<QueueService>();
            try { await (started ? host.WaitForShutdownAsync() : host.RunAsync()); }
            catch (Exception) when (service.Fault is not null) { }
            if (service.Fault is not { } fault) return ExitCodes.Success;
            Console.Error.WriteLine($"error: the queue service stopped: {fault.Message} (details in {queue.ServiceLog(ProcessIdentity.Current)})");
            return ExitCodes.RunFailed;
        }

        if (statusPort is not { } port)
        {
            var builder = Host.CreateApplicationBuilder();
            Configure(builder.Services);
            return await RunAsync(builder.Build());
        }

        var web = WebApplication.CreateSlimBuilder();
        web.WebHost.UseUrls($"http://127.0.0.1:{port}");
        Configure(web.Services);
        var app = web.Build();
        StatusEndpoints.Map(app, new QueueStatus(queue.Root));
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            // Taken between the caller's check and the bind.
            logger.Error(e, "Cannot listen on the status port");
            Console.Error.WriteLine($"error: --status-port {port}: cannot listen on 127.0.0.1:{port} ({e.Message}); choose another port");
            return ExitCodes.ServiceUnusable;
        }
        logger.Information("Status page on http://127.0.0.1:{Port}/", port);
        return await RunAsync(app, started: true);
    }
}
