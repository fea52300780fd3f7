using System.Diagnostics;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Service;

/// <summary>The status page as a user sees it: rendered by headless Chromium (apt-get install chromium).</summary>
public sealed class StatusPageTests
{
    internal const string Chromium = "/usr/bin/chromium";

    [Fact]
    public void The_status_page_shows_a_running_item_with_its_progress_loss_curve_and_image_grid()
    {
        File.Exists(Chromium).Should().BeTrue("the status page test needs Debian's chromium: apt-get install chromium (.ci/run installs it)");
        using var queue = new QueueFixture();
        var manifest = QueueFixture.Long(steps: 100000); // stopped by the test long before the end
        manifest["algorithm"]!["options"]!["evaluationInterval"] = 20;
        queue.Enqueue("watched", manifest);
        queue.Enqueue("waiting", QueueFixture.Quick(1));
        var port = QueueFixture.FreePort();

        using var service = queue.Serve(1, "--status-port", port.ToString());
        QueueFixture.WaitUntil(() => File.Exists(Path.Combine(queue.RunFolder("watched"), "preview.png"))
                                     && QueueFixture.ProgressSteps(queue.RunFolder("watched")) >= 30, "progress and a preview grid", service);

        var url = $"http://127.0.0.1:{port}/";
        var dom = RunChromium($"--dump-dom {url}");
        var screenshot = Path.Combine(queue.Work, "status.png");
        RunChromium($"--window-size=1200,1000 --screenshot={screenshot} {url}");
        service.Signal("TERM");
        service.WaitForResult(TimeSpan.FromMinutes(2));

        dom.Should().Contain("data-id=\"watched\" data-state=\"running\"");
        dom.Should().Contain("data-id=\"waiting\" data-state=\"queued\"");
        dom.Should().MatchRegex("<progress max=\"100000\" value=\"[1-9][0-9]*\">");
        dom.Should().MatchRegex("class=\"loss-curve\" data-points=\"[1-9][0-9]*\"");
        dom.Should().Contain("alt=\"image grid of watched\"").And.Contain("data-loaded=\"true\"");
        dom.Should().Contain("krr.testAccuracy");
        var png = File.ReadAllBytes(screenshot);
        png.Take(4).Should().Equal(0x89, 0x50, 0x4E, 0x47);
        png.Length.Should().BeGreaterThan(20_000, "a page with a table, a curve and an image grid is not blank");
    }

    internal static string RunChromium(string arguments)
    {
        using var userData = new ScratchFolder();
        var start = new ProcessStartInfo(Chromium,
            "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking " +
            $"--disable-component-update --disable-sync --user-data-dir={userData.Path} --virtual-time-budget=5000 {arguments}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        process.WaitForExit(TimeSpan.FromMinutes(2)).Should().BeTrue("chromium should render the page");
        return output.Result;
    }
}
