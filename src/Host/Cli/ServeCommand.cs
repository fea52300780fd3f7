using System.Net;
using System.Net.Sockets;
using Distillery.Abstractions;
using Distillery.Engine.Outputs;
using Distillery.Engine.Runs;
using Distillery.Service;

namespace Distillery.Host.Cli;

/// <summary>
/// <c>distillery serve</c>: the queue as a long-lived hosted service (systemd-aware), optionally with a read-only
/// status page on 127.0.0.1.
/// </summary>
public static class ServeCommand
{
    /// <summary>The command line of `serve`.</summary>
    /// <param name="Retries">Times a run that failed with exit 3 is run again from its last checkpoint.</param>
    /// <param name="Lease">How long a claim vouches for its item without renewal.</param>
    /// <param name="ThreadsPerRun">CPU threads of each child run; null: cores / concurrency, at least 1.</param>
    /// <param name="AllowManifestPlugins">Load the plugin folders a queued manifest lists (operator opt-in; off by default).</param>
    public sealed record Arguments(string Queue, int Concurrency, int? StatusPort, string[] PluginFolders, TimeSpan ShutdownTimeout, bool Verbose,
                                   int Retries, TimeSpan Lease, int? ThreadsPerRun = null, bool AllowManifestPlugins = false);

    /// <summary>Serves until stopped: 0 after a stop by SIGTERM or Ctrl+C, <see cref="ExitCodes.RunFailed"/> when an error stopped the service.</summary>
    public static async Task<int> ExecuteAsync(Arguments arguments)
    {
        ChildRunOptions runs;
        try
        {
            if (arguments.Concurrency < 1) throw new DistilleryException($"--concurrency: must be at least 1, got {arguments.Concurrency}");
            if (arguments.StatusPort is < 1 or > 65535) throw new DistilleryException($"--status-port: must be between 1 and 65535, got {arguments.StatusPort}");
            var threads = arguments.ThreadsPerRun is { } requested
                ? RunThreads.Require(requested, "--threads-per-run")
                : RunThreads.PerRun(arguments.Concurrency);
            runs = new ChildRunOptions(arguments.PluginFolders.Select(Path.GetFullPath).ToList(), threads, arguments.AllowManifestPlugins);
        }
        catch (DistilleryException e)
        {
            return Errors.InvalidInput(e, arguments.Verbose);
        }

        var queue = new QueueFolders(arguments.Queue);
        try
        {
            // Checked before anything starts: under systemd a service that fails later would be restarted in a loop.
            foreach (var folder in queue.Folders.Prepend(queue.Root)) WritableFolder.Ensure(folder, "--queue");
            if (arguments.StatusPort is { } statusPort) CheckPortFree(statusPort);
        }
        catch (DistilleryException e)
        {
            Errors.InvalidInput(e, arguments.Verbose);
            return ExitCodes.ServiceUnusable;
        }

        await using var logger = Logging.Create(arguments.Verbose, queue.ServiceLog(ProcessIdentity.Current));
        var options = new QueueOptions(queue.Root, arguments.Concurrency, runs, TimeSpan.FromMilliseconds(500), arguments.Retries, arguments.Lease);
        logger.Information("Each run gets {Threads} thread(s); manifests' own plugin folders are {Allowed}", runs.Threads,
            runs.AllowManifestPlugins ? "loaded (--allow-manifest-plugins)" : "refused");

        return await QueueHost.RunAsync(options, arguments.StatusPort, arguments.ShutdownTimeout, logger);
    }

    /// <summary>Fails with a clear message when another process listens on the status port.</summary>
    private static void CheckPortFree(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        try
        {
            listener.Start();
        }
        catch (SocketException e)
        {
            throw new DistilleryException($"--status-port {port}: cannot listen on 127.0.0.1:{port} ({e.SocketErrorCode}); choose another port");
        }
        finally
        {
            listener.Stop();
        }
    }
}
