using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// The centred network g(x; θ) = f(x; θ) − f(x; θ₀) (DESIGN §4 "Centring"; RFAD's <c>--centering</c>, Loo et al. 2022):
/// f's output minus that of a frozen copy of its initial parameters θ₀, so the trained function starts at exactly 0,
/// as the kernel regime (NTK gradient flow from a zero function) assumes. The frozen term is computed without autograd,
/// so ∂g/∂θ = ∂f/∂θ. Training and test-time predictions both go through <see cref="forward"/>.
/// <para>
/// Owns both networks (registered as submodules <c>network</c> and <c>initial</c>: <c>to</c>, <c>train</c>/<c>eval</c>
/// and <c>Dispose</c> reach both). The frozen copy's parameters have <c>requires_grad</c> false: train
/// <see cref="TrainableParameters"/> (or <c>parameters()</c> filtered on <c>requires_grad</c>).
/// </para>
/// </summary>
public sealed class CentredNetwork : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> _network;
    private readonly nn.Module<Tensor, Tensor> _initial;

    /// <summary>Centres <paramref name="network"/> at its current parameters.</summary>
    /// <param name="network">The initialised network to train (θ = θ₀ now).</param>
    /// <param name="sameArchitecture">A second instance of the same architecture, already of the network's dtype and on its
    /// device (so copying θ₀ into it loses nothing); its values are overwritten with the network's.</param>
    /// <exception cref="ArgumentException">The two differ in parameter names, shapes, dtypes or devices.</exception>
    public CentredNetwork(nn.Module<Tensor, Tensor> network, nn.Module<Tensor, Tensor> sameArchitecture) : base("CentredNetwork")
    {
        var trained = network.named_parameters().ToArray();
        var frozen = sameArchitecture.named_parameters().ToArray();
        if (!trained.Select(p => (p.name, Shape: string.Join('×', p.parameter.shape), p.parameter.dtype, Device: p.parameter.device.ToString()))
                .SequenceEqual(frozen.Select(p => (p.name, Shape: string.Join('×', p.parameter.shape), p.parameter.dtype, Device: p.parameter.device.ToString()))))
            throw new ArgumentException("the copy to centre on must have the network's parameters: same names, shapes, dtype and device", nameof(sameArchitecture));
        using (no_grad())
            for (var i = 0; i < trained.Length; i++)
            {
                frozen[i].parameter.copy_(trained[i].parameter);
                frozen[i].parameter.requires_grad = false;
            }
        _network = network;
        _initial = sameArchitecture;
        register_module("network", network);
        register_module("initial", sameArchitecture);
    }

    /// <summary>θ, the parameters of the trained network (not the frozen copy).</summary>
    public IEnumerable<Parameter> TrainableParameters => _network.parameters();

    /// <summary>θ₀, aligned with <see cref="TrainableParameters"/>; owned by this module (do not dispose). Read afresh on each
    /// call, because <c>to(…)</c> replaces a module's parameter objects.</summary>
    public IReadOnlyList<Tensor> InitialParameters => _initial.parameters().Select(p => (Tensor)p).ToArray();

    /// <summary>f(x; θ) − f(x; θ₀) for images x [n, C, H, W]: [n, classes], differentiable in θ only.</summary>
    public override Tensor forward(Tensor input)
    {
        Tensor initial;
        using (no_grad())
            initial = _initial.call(input);
        using (initial)
            return _network.call(input).sub(initial);
    }
}
