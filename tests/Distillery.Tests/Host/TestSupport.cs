using System.Reflection;
using Distillery.Engine.Plugins;
using Microsoft.Extensions.Logging;

namespace Distillery.Tests.Host;

/// <summary>Where the built host and its bundled plugins live.</summary>
internal static class TestPaths
{
    private const string FallbackPluginFolder = "/work/main/src/Host/bin/Debug/net10.0/plugins";

    /// <summary>
    /// The host's <c>plugins</c> folder: from the test assembly's <c>HostOutputDirectory</c> metadata when the test
    /// project declares it, else from <c>DISTILLERY_PLUGINS</c>, else the default Debug output of the host.
    /// </summary>
    public static string HostPluginFolder
    {
        get
        {
            var hostOutput = typeof(TestPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .FirstOrDefault(a => a.Key == "HostOutputDirectory")?.Value;
            if (!string.IsNullOrEmpty(hostOutput))
                return Path.GetFullPath(Path.Combine(hostOutput, "plugins"));
            var fromEnvironment = Environment.GetEnvironmentVariable("DISTILLERY_PLUGINS");
            return Path.GetFullPath(string.IsNullOrEmpty(fromEnvironment) ? FallbackPluginFolder : fromEnvironment);
        }
    }
}

/// <summary>The catalog of the bundled plugins, loaded once for the test classes that only read it.</summary>
public sealed class BundledPluginsFixture
{
    public PluginCatalog Catalog { get; } = PluginCatalog.Load([TestPaths.HostPluginFolder]);
}

/// <summary>A fresh temporary folder, deleted afterwards.</summary>
internal sealed class HostTempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("distillery-host-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>An <see cref="ILogger"/> that keeps every entry, for asserting on warnings.</summary>
internal sealed class CollectingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get { lock (_entries) return _entries.ToList(); }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries) _entries.Add((logLevel, formatter(state, exception)));
    }
}
