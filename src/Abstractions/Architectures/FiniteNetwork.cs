using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace Distillery.Abstractions.Architectures;

/// <summary>
/// Builds the finite torch network of any <see cref="Architecture"/>: a <c>Sequential</c> of one module per layer, in
/// order — for transfer evaluation, and for any method that trains the described networks. Modules are named by kind
/// and index (<c>conv0</c>, <c>norm0</c>, <c>relu0</c>, <c>pool0</c>, …, <c>dense0</c>, …, <c>flatten</c>,
/// <c>globalpool</c>; the last Dense is <c>readout</c>), so parameters read <c>conv0.weight</c>, <c>readout.bias</c>.
/// Built in float32 on the CPU; move it with <c>to(dtype)</c> / <c>to(device)</c> after initialising, so that
/// initialisation is the same on every device. The caller owns (disposes) the network.
/// </summary>
public static class FiniteNetwork
{
    /// <summary>
    /// The network of <paramref name="architecture"/> for inputs of shape <paramref name="input"/> (one example), drawn
    /// from <paramref name="generator"/> (<see cref="ParameterInit"/>): a function of the description, the shape, the
    /// parameterisation and the generator's state alone.
    /// </summary>
    /// <param name="architecture">The description; its last Dense is the readout.</param>
    /// <param name="input">One example's shape: an image [C, H, W] (or a vector for a network that starts flat).</param>
    /// <param name="parameterization">Standard (PyTorch's layers) or NTK (W_std, b_std of the description).</param>
    /// <param name="generator">A CPU generator; it advances by the draws of every parameter, module by module.</param>
    /// <exception cref="ArchitectureException">The layers do not compose on that input.</exception>
    public static Module<Tensor, Tensor> Create(Architecture architecture, FeatureShape input, Parameterization parameterization, Generator generator)
    {
        var network = Create(architecture, input, parameterization);
        ParameterInit.Apply(network, generator);
        return network;
    }

    /// <summary>
    /// The network of <paramref name="architecture"/>, not yet initialised: its parameters hold the torch constructors'
    /// draws (standard layers) or zeros (NTK layers) — a container to initialise with <see cref="ParameterInit"/> or to
    /// overwrite (a centred network's frozen copy). The global generator is left as it was.
    /// </summary>
    /// <exception cref="ArchitectureException">The layers do not compose on that input.</exception>
    public static Module<Tensor, Tensor> Create(Architecture architecture, FeatureShape input, Parameterization parameterization)
    {
        var shapes = architecture.Shapes(input);
        var counts = new Dictionary<string, int>();
        string Next(string kind, bool indexFirst = true)
        {
            var index = counts.GetValueOrDefault(kind);
            counts[kind] = index + 1;
            return index == 0 && !indexFirst ? kind : $"{kind}{index}";
        }

        using var guard = new GlobalGeneratorGuard();
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        for (var i = 0; i < architecture.Layers.Count; i++)
        {
            var inputs = shapes[i].Channels; // channels of an image, features of a vector
            var last = i == architecture.Layers.Count - 1;
            modules.Add(architecture.Layers[i] switch
            {
                Layer.Conv conv => (Next("conv"), parameterization == Parameterization.Ntk
                    ? new NtkConv2d(inputs, conv.Channels, conv.FilterSize, conv.WeightStd, conv.BiasStd)
                    : Conv2d(inputs, conv.Channels, kernel_size: conv.FilterSize, padding: conv.FilterSize / 2)),
                Layer.InstanceNorm => (Next("norm"), InstanceNorm2d(inputs, affine: true)),
                Layer.Relu => (Next("relu"), ReLU()),
                Layer.AvgPool pool => (Next("pool"), AvgPool2d(kernel_size: pool.Window, stride: pool.Stride)),
                Layer.Flatten => (Next("flatten", indexFirst: false), Flatten()),
                Layer.GlobalAvgPool => (Next("globalpool", indexFirst: false), new GlobalAvgPool2d()),
                Layer.Dense dense => (last ? "readout" : Next("dense"), parameterization == Parameterization.Ntk
                    ? new NtkDense(inputs, dense.Outputs, dense.WeightStd, dense.BiasStd)
                    : Linear(inputs, dense.Outputs)),
                var other => throw new ArchitectureException($"{other} has no finite-network module"),
            });
        }
        return Sequential(modules);
    }
}
