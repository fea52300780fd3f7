using Distillery.Abstractions.Runs;
using Distillery.Engine.Runs;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

public sealed class LogProgressDisplayTests
{
    [Fact]
    public void Writes_a_line_per_twentieth_even_when_steps_are_reported_sparsely()
    {
        var logger = new CollectingLogger();
        var display = new LogProgressDisplay(logger);

        display.Start("transfer", 900, 0);
        for (var step = 4; step <= 900; step += 4) display.Report(new ProgressUpdate(step, 0.5)); // every 4th of 900

        var lines = logger.Entries.Select(e => e.Message).Where(m => m.StartsWith("transfer step")).ToList();
        lines.Should().HaveCount(20, "one line past each multiple of 45, the last at step 900");
        lines[0].Should().StartWith("transfer step 48/900");
        lines[^1].Should().StartWith("transfer step 900/900");
    }

    [Fact]
    public void A_resumed_phase_starts_counting_from_its_first_step()
    {
        var logger = new CollectingLogger();
        var display = new LogProgressDisplay(logger);

        display.Start("kip", 100, 50);
        for (var step = 51; step <= 100; step++) display.Report(new ProgressUpdate(step, 0.1));

        logger.Entries.Select(e => e.Message).Where(m => m.StartsWith("kip step")).Should().HaveCount(10);
    }
}
