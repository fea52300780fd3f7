using Distillery.Abstractions;

namespace Distillery.Engine.Manifests;

/// <summary>One or more manifest problems, each naming its path (<c>algorithm.options.steps: …</c>).</summary>
public sealed class ManifestException(IReadOnlyList<string> problems)
    : DistilleryException(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
