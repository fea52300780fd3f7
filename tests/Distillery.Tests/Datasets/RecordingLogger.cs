using Microsoft.Extensions.Logging;

namespace Distillery.Tests.Datasets;

/// <summary>
/// An <see cref="ILogger"/> that keeps every entry, for asserting on warnings. The Datasets tests keep their own
/// (rather than the Host tests' CollectingLogger) so that they build against the dataset plugin alone.
/// </summary>
internal sealed class RecordingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<string> Warnings
    {
        get { lock (_entries) return [.. _entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message)]; }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries) _entries.Add((logLevel, formatter(state, exception)));
    }
}
