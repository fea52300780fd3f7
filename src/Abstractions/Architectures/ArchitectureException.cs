namespace Distillery.Abstractions.Architectures;

/// <summary>
/// A network description that cannot be built or derived as asked: layers that do not compose (a dense layer on
/// images, a pool larger than its feature map), or a layer a derivation cannot express (instance norm in an
/// infinite-width kernel). The message names the layer and what to change; as a <see cref="DistilleryException"/>
/// the host reports it as one line (invalid input).
/// </summary>
public sealed class ArchitectureException : DistilleryException
{
    /// <summary>A description problem, stated in <paramref name="message"/>.</summary>
    public ArchitectureException(string message) : base(message)
    {
    }
}
