using System.Diagnostics;
using Distillery.Abstractions;
using Distillery.Engine.Runs;
using Distillery.Tests.EndToEnd;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Host;

/// <summary>The run folder's lock: a holder makes others wait (and say so), and a folder that cannot be locked fails at once.</summary>
public sealed class RunFolderLockTests
{
    [Fact]
    public void A_held_folder_makes_the_next_process_wait_for_its_patience_and_then_report_it_in_use()
    {
        using var scratch = new ScratchFolder();
        var folder = new RunFolder(scratch.Path);
        using var held = RunFolderLock.Acquire(folder, TimeSpan.Zero, CancellationToken.None);

        var waited = 0;
        var clock = Stopwatch.StartNew();
        var acquire = () => RunFolderLock.Acquire(folder, TimeSpan.FromMilliseconds(600), CancellationToken.None, () => waited++);
        acquire.Should().Throw<DistilleryException>().WithMessage("*is in use by another distillery process*");
        clock.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(500), "a held lock is waited for, not a failure at once");
        waited.Should().Be(1);

        using var cancelled = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var forever = () => RunFolderLock.Acquire(folder, Timeout.InfiniteTimeSpan, cancelled.Token);
        forever.Should().Throw<OperationCanceledException>("an unbounded wait ends only when cancelled");
    }

    [Fact]
    public void A_lock_file_that_cannot_be_opened_fails_at_once_with_its_path()
    {
        using var scratch = new ScratchFolder();
        var folder = new RunFolder(scratch.Path);
        Directory.CreateDirectory(folder.Lock); // .lock is a folder: no waiting can cure that

        var clock = Stopwatch.StartNew();
        var acquire = () => RunFolderLock.Acquire(folder, Timeout.InfiniteTimeSpan, CancellationToken.None);
        acquire.Should().Throw<DistilleryException>().WithMessage($"{folder.Lock}: cannot lock the run folder: *");
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(5));
    }
}
