using static TorchSharp.torch;

namespace Distillery.Abstractions.Architectures;

/// <summary>
/// torch.nn module constructors draw their default init from the global CPU generator. <see cref="FiniteNetwork"/>
/// re-initialises its networks from a generator of their own (<see cref="ParameterInit"/>), so those draws are wasted;
/// this scope restores the global state afterwards, so building a network never shifts the global stream other code may use.
/// </summary>
internal sealed class GlobalGeneratorGuard : IDisposable
{
    private readonly Tensor _saved = random.get_rng_state();

    /// <summary>Restores the global generator's state as it was when the guard was made.</summary>
    public void Dispose()
    {
        random.set_rng_state(_saved);
        _saved.Dispose();
    }
}
