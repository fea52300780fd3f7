using Distillery.Abstractions;
using Distillery.Abstractions.Architectures;
using Distillery.Abstractions.Runs;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Matching;

/// <summary>
/// One randomly initialised DC ConvNet — [Conv3×3(width) → InstanceNorm (or none) → ReLU → AvgPool2×2] × depth →
/// Flatten → Dense(classes), PyTorch's layers and initialisation (<see cref="Parameterization.Standard"/>) — in the
/// run's dtype on its device, and its embedding: every module but the last Dense (the papers' <c>embed</c>). Owns the
/// network.
/// </summary>
internal sealed class MatchingNetwork : IDisposable
{
    private readonly nn.Module<Tensor, Tensor>[] _embedding;

    private MatchingNetwork(nn.Module<Tensor, Tensor> network)
    {
        Network = network;
        // FiniteNetwork builds a Sequential of one module per layer, the readout last.
        var modules = network.children().Cast<nn.Module<Tensor, Tensor>>().ToArray();
        _embedding = modules[..^1];
        Parameters = network.parameters().Select(p => (Tensor)p).ToArray();
    }

    /// <summary>The whole network: images [n, C, H, W] → logits [n, classes].</summary>
    public nn.Module<Tensor, Tensor> Network { get; }

    /// <summary>The network's parameters in <c>named_parameters</c> order (the modules' tensors, not copies).</summary>
    public IList<Tensor> Parameters { get; }

    /// <summary>
    /// A fresh network drawn from <c>run.CreateGenerator(purpose, index)</c>, for images shaped like the training set's.
    /// </summary>
    /// <exception cref="OptionException">The depth pools the images to nothing (names <c>depth</c>).</exception>
    public static MatchingNetwork Create(DistillationContext run, MatchingOptions options, string purpose, long index)
    {
        var architecture = Architecture.ConvNet(options.Depth, options.Width, run.Train.ClassCount, weightStd: 1.0, biasStd: 0.0,
            pooling: new Layer.AvgPool(2), readout: new Layer.Flatten(), instanceNorm: options.Norm == MatchingNorm.Instance);
        using var generator = run.CreateGenerator(purpose, index);
        nn.Module<Tensor, Tensor> network;
        try
        {
            network = FiniteNetwork.Create(architecture, FeatureShape.OfBatch(run.Train.Images.shape), Parameterization.Standard, generator);
        }
        catch (ArchitectureException problem)
        {
            throw new OptionException(nameof(options.Depth), $"{options.Depth} pooled blocks do not fit {run.Train.Height}×{run.Train.Width} images ({problem.Message})");
        }
        network.to(run.DType).to(run.Device);
        network.train();
        return new MatchingNetwork(network);
    }

    /// <summary>The logits [n, classes] of images [n, C, H, W].</summary>
    public Tensor Logits(Tensor images) => Network.call(images);

    /// <summary>The embedding [n, d] of images [n, C, H, W]: the flattened output of the last conv block.</summary>
    public Tensor Embed(Tensor images)
    {
        var x = images;
        foreach (var module in _embedding) x = module.call(x);
        return x;
    }

    /// <summary>Turns autograd off for the parameters (DM never trains its networks).</summary>
    public void Freeze()
    {
        foreach (var parameter in Parameters) parameter.requires_grad_(false);
    }

    /// <summary>Each parameter under <c>network.&lt;name&gt;</c>, for a checkpoint (the tensors themselves; the store copies them).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> CheckpointTensors() =>
        Network.named_parameters().Select(p => KeyValuePair.Create($"{CheckpointPrefix}{p.name}", (Tensor)p.parameter));

    /// <summary>The prefix of the parameters' names in a checkpoint.</summary>
    public const string CheckpointPrefix = "network.";

    /// <summary>Copies every parameter from a checkpoint's <c>network.&lt;name&gt;</c> tensors.</summary>
    /// <exception cref="DistilleryException">A parameter is missing: the checkpoint was written by another experiment.</exception>
    public void Restore(Checkpoint checkpoint)
    {
        using var noGrad = no_grad();
        foreach (var (name, parameter) in Network.named_parameters())
            parameter.copy_(checkpoint.Require(CheckpointPrefix + name));
    }

    /// <summary>Frees the network.</summary>
    public void Dispose() => Network.Dispose();
}
