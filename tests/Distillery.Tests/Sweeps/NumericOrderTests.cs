using Distillery.Engine.Sweeps;
using FluentAssertions;
using Xunit;

namespace Distillery.Tests.Sweeps;

public sealed class NumericOrderTests
{
    [Fact]
    public void Digit_runs_compare_as_numbers_and_everything_else_ordinally()
    {
        string[] expected =
        [
            "imagesPerClass-1_seed-0", "imagesPerClass-1_seed-2", "imagesPerClass-1_seed-10",
            "imagesPerClass-2_seed-0", "imagesPerClass-10_seed-0", "imagesPerClass-010_seed-1", "imagesPerClass-50",
            "imagesPerClass-50_seed-0", "kip", "kip-fc", "natural",
        ];
        var shuffled = expected.Reverse().ToArray();
        shuffled.Order(NumericOrder.Instance).Should().Equal(expected);
        NumericOrder.Instance.Compare("a01", "a1").Should().NotBe(0, "different strings never compare equal");
        NumericOrder.Instance.Compare("a1", "a1").Should().Be(0);
    }
}
