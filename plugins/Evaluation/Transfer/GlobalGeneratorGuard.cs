using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// torch.nn module constructors draw their default init from the global CPU generator. The transfer networks
/// are re-initialised from their own generator (<see cref="ParameterInit"/>), so those draws are wasted; this
/// scope restores the global state afterwards, so evaluating never shifts the global stream other code may use.
/// </summary>
public sealed class GlobalGeneratorGuard : IDisposable
{
    private readonly Tensor _saved = random.get_rng_state();

    public void Dispose()
    {
        random.set_rng_state(_saved);
        _saved.Dispose();
    }
}
