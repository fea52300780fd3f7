using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace Distillery.Tests.Numerics;

public sealed class NativeScalarTests(ITestOutputHelper output)
{
    private static readonly string[] Assemblies =
    [
        "Distillery.Abstractions", "Distillery.Kernels", "Distillery.Kip", "Distillery.LabelSolve",
        "Distillery.Evaluation", "Distillery.Baselines", "Distillery.Datasets", "distillery",
    ];

    [Fact]
    public void No_code_hands_libtorch_a_scalar_that_nothing_keeps_alive()
    {
        var folder = AppContext.BaseDirectory;
        using var scanner = new ScalarTemporaryScanner(folder);
        var offences = Assemblies.SelectMany(a => scanner.Offences(Path.Combine(folder, a + ".dll"))).ToList();
        foreach (var offence in offences) output.WriteLine(offence);
        offences.Should().BeEmpty();
    }
}
