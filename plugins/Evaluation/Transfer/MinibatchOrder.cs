using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Evaluation.Transfer;

/// <summary>
/// Which support rows each step trains on: all of them when the batch is the whole set, otherwise consecutive
/// slices of a fresh random permutation per epoch (the last slice of an epoch may be shorter), drawn from the
/// network's own generator so the order is a function of the seed.
/// </summary>
public sealed class MinibatchOrder(int count, int batchSize, Generator generator, Device device)
{
    private long[] _permutation = [];
    private int _position;

    public bool IsFullBatch => batchSize >= count;

    /// <summary>The row indices of the next batch, on <paramref name="device"/>; null for the whole set.</summary>
    public Tensor? Next()
    {
        if (IsFullBatch) return null;
        if (_position >= _permutation.Length)
        {
            using var order = randperm(count, generator: generator);
            _permutation = order.data<long>().ToArray();
            _position = 0;
        }
        var length = Math.Min(batchSize, _permutation.Length - _position);
        var rows = tensor(_permutation.AsSpan(_position, length).ToArray(), device: device);
        _position += length;
        return rows;
    }
}
