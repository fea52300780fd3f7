using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace Distillery.Tests.EndToEnd;

/// <summary>
/// The "billion laughs" YAML file (342 bytes, 9^9 strings once its aliases are expanded) through the executable, as a
/// user or a queued item would run it. Before the parser was bounded it grew `distillery validate` to 23 GB.
/// </summary>
public sealed class YamlBombTests(ITestOutputHelper output)
{
    private const string GnuTime = "/usr/bin/time";

    [Fact]
    public async Task Validate_refuses_the_billion_laughs_in_under_a_second_of_cpu_and_under_100_MB()
    {
        File.Exists(GnuTime).Should().BeTrue("this test measures with GNU time: apt-get install time (.ci/run installs it)");
        using var scratch = new ScratchFolder();
        File.WriteAllText(scratch.Combine("bomb.yaml"), FailurePathTests.BillionLaughs);
        var measurements = scratch.Combine("time.txt");
        // GNU time reports the child's own peak resident set (ru_maxrss) once it has exited: no sampling gap.
        var start = new ProcessStartInfo(GnuTime) { WorkingDirectory = scratch.Path, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-o", measurements, "-f", "%e %U %S %M", "dotnet", DistilleryProcess.Executable, "validate", "bomb.yaml" })
            start.ArgumentList.Add(argument);

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromMinutes(1)).Should().BeTrue("the bomb must not hang the process");
        var message = await error;

        process.ExitCode.Should().Be(2);
        message.Should().Contain("error: bomb.yaml: YAML has more than 100,000 nodes with its aliases expanded").And.NotContain("   at ");
        var figures = File.ReadAllLines(measurements).Last().Split(' ').Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var (wall, cpu, peakMiB) = (figures[0], figures[1] + figures[2], figures[3] / 1024);
        output.WriteLine($"validate bomb.yaml: {wall:F2} s wall, {cpu:F2} s CPU, peak resident {peakMiB:F0} MiB (whole process, .NET runtime included)");
        cpu.Should().BeLessThan(1.0, "CPU time, unlike wall time, does not depend on what else the machine runs");
        peakMiB.Should().BeLessThan(100);
    }
}
