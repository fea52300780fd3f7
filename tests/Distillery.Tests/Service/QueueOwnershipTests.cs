using System.Diagnostics;
using Distillery.Service;
using Distillery.Tests.EndToEnd;
using Distillery.Tests.Host;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Distillery.Tests.Service;

/// <summary>Who owns a queue item, when another service may take it over, and how a finished item is filed.</summary>
public sealed class QueueOwnershipTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);
    private readonly ScratchFolder _scratch = new();
    private readonly QueueFolders _queue;
    private readonly CollectingLogger _logger = new();

    public QueueOwnershipTests()
    {
        _queue = new QueueFolders(_scratch.Combine("queue"));
        _queue.Create();
    }

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void The_start_time_read_from_proc_matches_ps_and_tells_a_reused_pid_from_its_first_owner()
    {
        var self = ProcessIdentity.Current;
        // ps(1) reports the same field of /proc/<pid>/stat in seconds since boot: an independent reading of it.
        var ticksPerSecond = long.Parse(Command("getconf", "CLK_TCK"));
        var elapsedByPs = long.Parse(Command("ps", "-o", "etimes=", "-p", self.Pid.ToString()));
        var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        (uptime - self.StartTicks!.Value / (double)ticksPerSecond).Should().BeApproximately(elapsedByPs, 2);

        self.IsGoneAsSeenBy(self).Should().BeFalse("this process runs");
        (self with { StartTicks = self.StartTicks + 1 }).IsGoneAsSeenBy(self).Should().BeTrue("the pid now runs a process started at another time");
        (self with { BootId = "an-earlier-boot" }).IsGoneAsSeenBy(self).Should().BeTrue("the host rebooted since");
        (self with { Pid = ExitedPid() }).IsGoneAsSeenBy(self).Should().BeTrue("that process has exited");
        (self with { Host = "another-host", Pid = ExitedPid() }).IsGoneAsSeenBy(self).Should().BeFalse("a process on another host cannot be checked from here");
    }

    [Fact]
    public void An_owner_on_another_host_is_gone_only_once_its_lease_has_run_out()
    {
        var elsewhere = ProcessIdentity.Current with { Host = "another-host" };
        var owner = new ItemOwner("other", elsewhere, DateTime.UtcNow + Lease);
        owner.IsGone(ProcessIdentity.Current, DateTime.UtcNow).Should().BeFalse();
        owner.IsGone(ProcessIdentity.Current, owner.LeaseExpiresUtc.AddSeconds(1)).Should().BeTrue();

        owner.Write(_scratch.Combine("owner"));
        ItemOwner.Read(_scratch.Combine("owner")).Should().Be(owner, "the owner file round-trips");
        File.WriteAllText(_scratch.Combine("damaged"), "{\"instance\": 3");
        ItemOwner.Read(_scratch.Combine("damaged")).Should().BeNull();
    }

    [Fact]
    public void A_claimed_item_stays_with_its_live_owner_and_passes_to_another_service_once_the_owner_is_gone()
    {
        var first = new QueueOwnership(_queue, "first", Lease, _logger);
        var second = new QueueOwnership(_queue, "second", Lease, _logger);
        var claimed = first.Claim(Enqueue("item"))!;
        claimed.Should().Be(Path.Combine(_queue.Running, "item.json"));
        ItemOwner.Read(_queue.OwnerFile("item"))!.Instance.Should().Be("first");

        second.TryTakeOver(claimed, out _).Should().BeFalse("its owner (this very process) lives and its lease runs");
        first.Renew(["item"]).Should().BeEmpty();

        // The same owner, as if its process had died: the pid now names an exited process.
        var dead = ItemOwner.Read(_queue.OwnerFile("item"))! with { Process = ProcessIdentity.Current with { Pid = ExitedPid() } };
        dead.Write(_queue.OwnerFile("item"));
        second.TryTakeOver(claimed, out var previous).Should().BeTrue();
        previous!.Instance.Should().Be("first");
        ItemOwner.Read(_queue.OwnerFile("item"))!.Instance.Should().Be("second");
        first.Renew(["item"]).Should().Equal(["item"], "the first service must learn that it lost the item");
    }

    [Fact]
    public void A_lease_that_ran_out_frees_the_item_and_a_pending_filing_passes_to_the_new_owner()
    {
        var elsewhere = new QueueOwnership(_queue, "elsewhere", Lease, _logger);
        var claimed = elsewhere.Claim(Enqueue("item"))!;
        elsewhere.MarkFiling("item", "done", problem: null).Should().BeTrue();
        var owner = ItemOwner.Read(_queue.OwnerFile("item"))!;
        (owner with { Process = owner.Process with { Host = "another-host" } }).Write(_queue.OwnerFile("item"));

        var here = new QueueOwnership(_queue, "here", Lease, _logger);
        here.TryTakeOver(claimed, out _).Should().BeFalse("the other host's lease still runs");
        (owner with { Process = owner.Process with { Host = "another-host" }, LeaseExpiresUtc = DateTime.UtcNow.AddSeconds(-1) }).Write(_queue.OwnerFile("item"));
        here.TryTakeOver(claimed, out var previous).Should().BeTrue();
        previous!.Filing.Should().Be("done");
        ItemOwner.Read(_queue.OwnerFile("item"))!.Should().Match<ItemOwner>(o => o.Instance == "here" && o.Filing == "done");
    }

    [Fact]
    public void An_item_without_an_owner_file_is_an_orphan_and_a_second_manifest_of_the_same_name_gets_a_new_id()
    {
        File.WriteAllText(Path.Combine(_queue.Running, "orphan.json"), "{}");
        var service = new QueueOwnership(_queue, "service", Lease, _logger);
        service.TryTakeOver(Path.Combine(_queue.Running, "orphan.json"), out var previous).Should().BeTrue();
        previous.Should().BeNull();

        service.Claim(Enqueue("orphan")).Should().Be(Path.Combine(_queue.Running, "orphan-2.json"));
        service.Claim(Path.Combine(_queue.Inbox, "gone.json")).Should().BeNull("another service took it first");
    }

    [Fact]
    public void The_attempt_log_counts_attempt_headers_only()
    {
        var path = _scratch.Combine("item.reason.txt");
        AttemptLog.FailedAttempts(path).Should().Be(0);
        AttemptLog.Append(path, 1, "service a", "the run failed (exit 3):\nerror: the run failed: IOException: disk\nattempt 7 printed by the run");
        AttemptLog.Append(path, 2, "service b", "invalid input (exit 2):\nerror: name: required");
        AttemptLog.FailedAttempts(path).Should().Be(2);
        var lines = File.ReadAllLines(path);
        lines[0].Should().StartWith("attempt 1 (").And.EndWith(", service a): the run failed (exit 3):");
        lines[1].Should().Be("error: the run failed: IOException: disk");
        lines[2].Should().Be("  attempt 7 printed by the run");
        lines[3].Should().StartWith("attempt 2 (").And.EndWith("): invalid input (exit 2):");
    }

    [Fact]
    public async Task An_item_that_cannot_be_filed_is_retried_visibly_until_its_folder_is_fixed()
    {
        var ownership = new QueueOwnership(_queue, "service", Lease, _logger);
        var claimed = ownership.Claim(Enqueue("item"))!;
        AttemptLog.Append(QueueFolders.ReasonFile(_queue.Running, "item"), 1, "service", "invalid input (exit 2):\nerror: bad");
        Directory.Delete(_queue.Failed);
        File.WriteAllText(_queue.Failed, "failed/ is a file, so nothing can be moved into it");

        var filing = new ItemFiler(_queue, ownership, _logger).FileAsync(claimed, "failed", CancellationToken.None);
        await WaitUntil(() => ItemOwner.Read(_queue.OwnerFile("item"))?.Problem is not null);
        _logger.Entries.Should().Contain(e => e.Level == LogLevel.Error && e.Message.StartsWith("Cannot file item into failed/"));
        ItemOwner.Read(_queue.OwnerFile("item"))!.Should().Match<ItemOwner>(o => o.Filing == "failed" && o.Problem!.Contains("cannot move it into failed/ (try 1"));
        File.Exists(claimed).Should().BeTrue("it stays in running/ meanwhile");

        File.Delete(_queue.Failed);
        Directory.CreateDirectory(_queue.Failed);
        (await filing.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
        File.Exists(Path.Combine(_queue.Failed, "item.json")).Should().BeTrue();
        AttemptLog.FailedAttempts(_queue.ReasonFile("item")).Should().Be(1);
        Directory.EnumerateFiles(_queue.Running).Should().BeEmpty("the manifest, its reasons and its owner file have left running/");
    }

    [Fact]
    public async Task The_service_stops_with_its_fault_recorded_when_the_queue_folder_cannot_be_used()
    {
        File.WriteAllText(_scratch.Combine("a-file"), "");
        var options = new QueueOptions(_scratch.Combine("a-file", "queue"), 1, new ChildRunOptions([], 1, AllowManifestPlugins: false), TimeSpan.FromMilliseconds(100), 2, Lease);
        using var service = new QueueService(options, new LoggerAdapter<QueueService>(_logger));
        var serve = async () =>
        {
            await service.StartAsync(CancellationToken.None);
            await service.ExecuteTask!;
        };
        await serve.Should().ThrowAsync<IOException>();
        service.Fault.Should().BeAssignableTo<IOException>();
        _logger.Entries.Should().Contain(e => e.Level == LogLevel.Critical && e.Message.StartsWith("The queue service stopped"));
    }

    private string Enqueue(string id)
    {
        var path = Path.Combine(_queue.Inbox, id + ".json");
        File.WriteAllText(path, "{}");
        return path;
    }

    private static int ExitedPid()
    {
        using var process = Process.Start("true")!;
        process.WaitForExit();
        return process.Id;
    }

    private static string Command(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true })!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the condition did not come true in 30 s");
            await Task.Delay(50);
        }
    }

    private sealed class LoggerAdapter<T>(ILogger inner) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);
        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception, formatter);
    }
}
