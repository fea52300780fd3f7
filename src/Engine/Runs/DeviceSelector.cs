using Distillery.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Distillery.Engine.Runs;

/// <summary>Turns the manifest's device and dtype into TorchSharp's, refusing a device this machine lacks.</summary>
public static class DeviceSelector
{
    public static Device Resolve(string device)
    {
        if (device == "cpu") return CPU;
        if (!cuda.is_available())
            throw new DistilleryException(
                $"device: \"{device}\" was asked for but CUDA is not available on this machine (no GPU, or this build uses TorchSharp-cpu; see README, GPU); use \"cpu\"");
        var parts = device.Split(':');
        var index = parts.Length > 1 ? int.Parse(parts[1]) : 0;
        if (index >= cuda.device_count())
            throw new DistilleryException($"device: \"{device}\" does not exist; this machine has {cuda.device_count()} CUDA device(s)");
        return new Device(DeviceType.CUDA, index);
    }

    public static ScalarType DType(string dtype) => dtype switch
    {
        "float64" => ScalarType.Float64,
        _ => ScalarType.Float32,
    };
}
