using Distillery.Kip;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Methods;

public sealed class KipSchedulesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(3000)]
    public void Constant_is_one_at_every_step(int steps)
    {
        foreach (var step in new long[] { 1, (steps + 1) / 2, steps })
            KipSchedules.RateFactor(KipSchedule.Constant, step, steps).Should().Be(1);
    }

    [Fact]
    public void Cosine_starts_at_the_full_rate_halves_midway_and_ends_near_zero()
    {
        // ½(1 + cos(π(t−1)/T)): 1 at t = 1, ½ at t − 1 = T/2, sin²(π/(2T)) at t = T.
        KipSchedules.RateFactor(KipSchedule.Cosine, 1, 3000).Should().Be(1);
        KipSchedules.RateFactor(KipSchedule.Cosine, 1501, 3000).Should().BeApproximately(0.5, 1e-15);
        KipSchedules.RateFactor(KipSchedule.Cosine, 751, 3000).Should().BeApproximately(0.5 + Math.Sqrt(0.5) / 2, 1e-15);
        KipSchedules.RateFactor(KipSchedule.Cosine, 3000, 3000).Should().BeApproximately(Math.Pow(Math.Sin(Math.PI / 6000), 2), 2e-16,
            "1 + cos(x) near x = π cancels to within a rounding of 1");
        KipSchedules.RateFactor(KipSchedule.Cosine, 1, 1).Should().Be(1, "a one-step run takes its single step at the full rate");
        var factors = Enumerable.Range(1, 100).Select(t => KipSchedules.RateFactor(KipSchedule.Cosine, t, 100)).ToArray();
        factors.Should().BeInDescendingOrder().And.OnlyContain(f => f > 0 && f <= 1);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(11, 10)]
    public void A_step_outside_the_run_is_refused(long step, int steps)
    {
        var act = () => KipSchedules.RateFactor(KipSchedule.Cosine, step, steps);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
