using Distillery.Abstractions.Numerics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Distillery.Abstractions.Architectures;

/// <summary>
/// PyTorch's default initialisation, drawn from a given generator instead of the global one: Linear and Conv
/// weights and biases ~ U(−1/√fan_in, 1/√fan_in) (kaiming_uniform with a = √5), norm scales 1 and shifts 0;
/// NTK-parameterised layers (<see cref="NtkAffine"/>) weights and biases ~ N(0, 1), as neural-tangents' stax draws them.
/// Modules are visited in <c>named_modules</c> order, so the draw is a function of the architecture and generator.
/// An explicit generator makes init a function of the seed alone, safe from other threads drawing globally;
/// and TorchSharp 0.107's GroupNorm leaves its affine parameters uninitialised, so nothing is left to chance.
/// </summary>
public static class ParameterInit
{
    /// <summary>Draws every parameter of <paramref name="network"/> in place (any dtype; the generator must be a CPU one, so
    /// initialise before moving to a GPU). Parameters of other module types are left as they are.</summary>
    public static void Apply(nn.Module network, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in network.named_modules())
        {
            switch (module)
            {
                case Linear or Conv2d:
                    var weight = module.get_parameter("weight")!;
                    var bound = 1.0 / Math.Sqrt(weight.shape.Skip(1).Aggregate(1L, (a, b) => a * b));
                    weight.uniform_(-bound, bound, generator);
                    module.get_parameter("bias")?.uniform_(-bound, bound, generator);
                    break;
                case NtkAffine ntk:
                    ntk.Weight.normal_(0, 1, generator);
                    ntk.Bias.normal_(0, 1, generator);
                    break;
                case InstanceNorm2d or GroupNorm:
                    module.get_parameter("weight")?.fill_(HeldScalars.One); // held for the native call (see HeldScalars)
                    module.get_parameter("bias")?.zero_();
                    break;
            }
        }
    }
}
