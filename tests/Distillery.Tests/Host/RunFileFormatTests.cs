using Distillery.Abstractions.Runs;
using Distillery.Engine.Runs;
using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>
/// metrics.json and progress.jsonl through their one writer and reader each: the bytes are those runs have always
/// written (scripts and existing run folders depend on them), and what is written reads back.
/// </summary>
public sealed class RunFileFormatTests : IDisposable
{
    private readonly HostTempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Metrics_json_is_written_byte_for_byte_as_before()
    {
        var folder = new RunFolder(_temp.Path);
        var metrics = new RunMetrics(new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            ["krr"] = new Dictionary<string, double> { ["testAccuracy"] = 0.863, ["testLoss"] = double.NaN, ["testCount"] = 1000 },
        }, WallSeconds: 10.12345, PeakMemoryBytes: 794542080, SupportSize: 100);

        metrics.Write(folder.Metrics);

        File.ReadAllText(folder.Metrics).Should().Be("""
            {
              "evaluatedOn": "test",
              "evaluations": {
                "krr": {
                  "testAccuracy": 0.863,
                  "testLoss": null,
                  "testCount": 1000
                }
              },
              "supportSize": 100,
              "wallSeconds": 10.123,
              "peakMemoryBytes": 794542080
            }
            """.ReplaceLineEndings(Environment.NewLine));
        var read = RunMetrics.Read(folder.Metrics);
        (read.SupportSize, read.WallSeconds, read.PeakMemoryBytes, read.EvaluatedOn).Should().Be((100, 10.123, 794542080L, RunMetrics.Test));
        read.Figures().Should().Equal(KeyValuePair.Create("krr.testAccuracy", 0.863), KeyValuePair.Create("krr.testCount", 1000.0));
    }

    [Fact]
    public void Progress_lines_are_written_byte_for_byte_as_before()
    {
        new PhaseStartRecord("kip", 300, 50, 0.5).ToJsonLine()
            .Should().Be("""{"phase":"kip","event":"start","totalSteps":300,"firstStep":50,"elapsedSeconds":0.5}""");
        new StepRecord("kip", 0, 1.25, null, new Dictionary<string, double> { ["krr.testAccuracy"] = 0.712 }).ToJsonLine()
            .Should().Be("""{"phase":"kip","step":0,"elapsedSeconds":1.25,"metrics":{"krr.testAccuracy":0.712}}""");
        new StepRecord("kip", 3, 2, double.NaN, new Dictionary<string, double>()).ToJsonLine()
            .Should().Be("""{"phase":"kip","step":3,"elapsedSeconds":2,"loss":null}""", "JSON has no NaN");
    }

    [Fact]
    public void Progress_log_lines_read_back_as_reported()
    {
        var folder = new RunFolder(_temp.Path);
        using (var log = new ProgressLog(folder.ProgressLog, new LogProgressDisplay(NullLogger.Instance)))
        {
            log.Start("kip", totalSteps: 3);
            log.Report(new ProgressUpdate(0, Metrics: new Dictionary<string, double> { ["krr.testAccuracy"] = 0.71 }));
            log.Report(new ProgressUpdate(1, Loss: 0.5));
            log.Report(new ProgressUpdate(2, Loss: double.PositiveInfinity));
        }
        File.AppendAllText(folder.ProgressLog, "{\"phase\":\"kip\",\"st"); // a line being written: not damage

        var journal = ProgressRecord.ReadFile(folder.ProgressLog);

        journal.Problem.Should().BeNull();
        journal.Records.Should().HaveCount(4);
        journal.Records[0].Should().BeOfType<PhaseStartRecord>().Which.Should().Match<PhaseStartRecord>(s =>
            s.Phase == "kip" && s.TotalSteps == 3 && s.FirstStep == 0 && s.ElapsedSeconds >= 0);
        journal.Steps.Select(s => (s.Phase, s.Step, s.Loss)).Should().Equal(("kip", 0L, (double?)null), ("kip", 1L, 0.5), ("kip", 2L, null));
        journal.Steps.First().Metrics.Should().Equal(new Dictionary<string, double> { ["krr.testAccuracy"] = 0.71 });
    }

    [Fact]
    public void A_damaged_progress_line_is_named_by_number_and_its_neighbours_are_read()
    {
        var path = _temp.File("progress.jsonl");
        File.WriteAllText(path, "{\"phase\":\"kip\",\"step\":1,\"loss\":0.5}\nnot json\n{\"phase\":\"kip\",\"step\":\"two\",\"loss\":[1]}\n");

        var journal = ProgressRecord.ReadFile(path);

        journal.DamagedLines.Should().Equal(2);
        journal.Problem.Should().Be($"{path}: line 2 damaged (not a JSON object); skipped");
        journal.Records.Should().HaveCount(2, "a JSON object with fields of the wrong type loses those fields, not the line");
        journal.Steps.Should().ContainSingle().Which.Step.Should().Be(1);
    }

    [Fact]
    public void A_journal_records_the_time_of_all_attempts()
    {
        var path = _temp.File("progress.jsonl");
        Journal(path, "").RecordedSeconds.Should().Be(0);
        Journal(path, """{"phase":"kip","event":"start","totalSteps":9,"firstStep":0}""" + "\n").RecordedSeconds.Should().Be(0, "no line has a time");
        Journal(path, Lines(0.5, 2, 7.25, 9)).RecordedSeconds.Should().Be(9, "each attempt goes on from the last recorded time");
        Journal(path, Lines(0.5, 2, 7.25, 1, 4, 0.25, 3)).RecordedSeconds.Should().Be(7.25 + 4 + 3,
            "a journal written before time carried over starts each attempt at 0 again");
    }

    [Fact]
    public void A_resumed_progress_log_goes_on_from_the_recorded_time_after_a_torn_line()
    {
        var path = _temp.File("progress.jsonl");
        File.WriteAllText(path, Lines(1, 100) + """{"phase":"kip","st""");   // an attempt killed while writing its last line

        double runSeconds;
        using (var log = new ProgressLog(path, new LogProgressDisplay(NullLogger.Instance)))
        {
            log.Start("kip", totalSteps: 9, firstStep: 5);
            runSeconds = log.RunSeconds;
        }

        var journal = ProgressRecord.ReadFile(path);
        journal.DamagedLines.Should().Equal(3);
        journal.Records.Should().HaveCount(3);
        journal.Records[2].Should().BeOfType<PhaseStartRecord>().Which.FirstStep.Should().Be(5, "the new line is not glued to the torn one");
        journal.Records[2].ElapsedSeconds.Should().BeInRange(100, runSeconds + 0.001, "written before, rounded to milliseconds");
        runSeconds.Should().BeInRange(100, 160);
    }

    private static ProgressJournal Journal(string path, string text)
    {
        File.WriteAllText(path, text);
        return ProgressRecord.ReadFile(path);
    }

    private static string Lines(params double[] elapsed) =>
        string.Concat(elapsed.Select((e, i) => new StepRecord("kip", i, e, 0.5, new Dictionary<string, double>()).ToJsonLine() + "\n"));
}
