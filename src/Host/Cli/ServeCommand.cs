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
    public sealed record Arguments(string Queue, int Concurrency, int? StatusPort, string[] PluginFolders, TimeSpan ShutdownTimeout, bool Verbose);

    public static async Task<int> ExecuteAsync(Arguments arguments)
    {
        var queue = new QueueFolders(arguments.Queue);
        queue.Create();
        await using var logger = Logging.Create(arguments.Verbose, Path.Combine(queue.Root, "service.log"));
        var options = new QueueOptions(queue.Root, arguments.Concurrency, arguments.PluginFolders.Select(Path.GetFullPath).ToList(), TimeSpan.FromMilliseconds(500));

        void Configure(IServiceCollection services)
        {
            services.AddSerilog(logger, dispose: false);
            services.AddSystemd();
            services.Configure<HostOptions>(o => o.ShutdownTimeout = arguments.ShutdownTimeout);
            services.AddSingleton(options);
            services.AddHostedService<QueueService>();
        }

        if (arguments.StatusPort is not { } port)
        {
            var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
            Configure(builder.Services);
            await builder.Build().RunAsync();
            return ExitCodes.Success;
        }

        var web = WebApplication.CreateSlimBuilder();
        web.WebHost.UseUrls($"http://127.0.0.1:{port}");
        Configure(web.Services);
        var app = web.Build();
        StatusEndpoints.Map(app, new QueueStatus(queue.Root));
        logger.Information("Status page on http://127.0.0.1:{Port}/", port);
        await app.RunAsync();
        return ExitCodes.Success;
    }
}
