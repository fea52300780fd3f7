using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Kernels.RandomFeatures;

/// <summary>
/// M random ConvNets drawn from one seed, and their joint feature map Φ(x) = wStd · [f₁(x), …, f_M(x)] / √(M·F)
/// (F features per network), scaled so that Φ(x)·Φ(x′) + bStd² is the readout Dense layer's covariance averaged
/// over the ensemble: wStd² · mean over networks of (f·f′ / F) + bStd², the NNGP's "Flatten → Dense" estimate.
/// </summary>
internal sealed class RandomConvNetEnsemble : IDisposable
{
    private readonly RandomConvNet[] networks;
    private readonly ConvNetRandomFeaturesOptions options;

    public RandomConvNetEnsemble(ConvNetRandomFeaturesOptions options, int models, long seed, long inputChannels, ScalarType dtype, Device device)
    {
        this.options = options;
        Seed = seed;
        InputChannels = inputChannels;
        DType = dtype;
        Device = device;
        // All networks come from one seeded stream, in order: the draw depends only on (seed, input channels), and a
        // larger ensemble from the same seed extends a smaller one.
        using var generator = new Generator(0, CPU);
        generator.manual_seed(seed);
        networks = Enumerable.Range(0, models)
            .Select(_ => RandomConvNet.Draw(options, inputChannels, generator, dtype, device))
            .ToArray();
    }

    public long Seed { get; }
    public long InputChannels { get; }
    public ScalarType DType { get; }
    public Device Device { get; }

    public bool Matches(long seed, int models, Tensor images) =>
        Seed == seed && networks.Length == models && InputChannels == images.shape[1] && DType == images.dtype && SameDevice(Device, images);

    public static bool SameDevice(Device device, Tensor images) =>
        device.type == images.device_type && (device.index < 0 ? 0 : device.index) == (images.device_index < 0 ? 0 : images.device_index);

    /// <summary>Φ(images) [n, M·F], computed <see cref="ConvNetRandomFeaturesOptions.BlockSize"/> images at a time.</summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        var blocks = new List<Tensor>();
        for (long start = 0; start < images.shape[0]; start += options.BlockSize)
            blocks.Add(BlockFeatures(images.narrow(0, start, Math.Min(options.BlockSize, images.shape[0] - start))));
        return (blocks.Count == 1 ? blocks[0] : cat(blocks, 0)).MoveToOuterDisposeScope();
    }

    private Tensor BlockFeatures(Tensor images)
    {
        using var scope = NewDisposeScope();
        var perNetwork = networks.Select(network => network.Features(images)).ToArray();
        var featuresPerNetwork = perNetwork[0].shape[1];
        using var scale = (options.WStd / Math.Sqrt(networks.Length * (double)featuresPerNetwork)).ToScalar(); // held (see HeldScalars)
        return cat(perNetwork, 1).mul(scale).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (var network in networks) network.Dispose();
    }
}
