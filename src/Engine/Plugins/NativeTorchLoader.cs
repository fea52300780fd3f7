using System.Runtime.InteropServices;
using Distillery.Abstractions;

namespace Distillery.Engine.Plugins;

/// <summary>
/// Loads libtorch before anything touches TorchSharp, so that a library that cannot be loaded is reported with the
/// operating system's own reason (e.g. "libtorch_cpu.so: failed to map segment from shared object: Cannot allocate
/// memory") and a hint, instead of TorchSharp's 40-line trace and TypeInitializationException.
/// </summary>
/// <remarks>
/// Why first: when its own load fails, TorchSharp's fallback copies the libtorch package's native files (about
/// 480 MB) into <c>&lt;app&gt;/cpu/</c> and tries again. Loading here, and stopping when it fails, means that fallback
/// never runs and nothing is written into the install folder. On success the libraries stay loaded (the handle is
/// never freed), and TorchSharp's own load of the same files finds them already mapped.
/// </remarks>
public static class NativeTorchLoader
{
    /// <summary>TorchSharp's native bridge; the dynamic loader brings in libtorch_cpu, libc10, libgomp… as its dependencies.</summary>
    public static string BridgeFileName =>
        OperatingSystem.IsWindows() ? "LibTorchSharp.dll" : OperatingSystem.IsMacOS() ? "libLibTorchSharp.dylib" : "libLibTorchSharp.so";

    private static bool _loaded;

    /// <summary>
    /// Loads the bridge from <paramref name="applicationFolder"/> (default: the executable's folder), looking in the
    /// folder itself and in <c>runtimes/&lt;rid&gt;/native/</c>. Throws <see cref="DistilleryException"/> with one line:
    /// the file, the loader's reason and what to change. Loads at most once per process.
    /// </summary>
    public static void Load(string? applicationFolder = null)
    {
        if (_loaded) return;
        var folder = applicationFolder ?? AppContext.BaseDirectory;
        var candidates = new[]
        {
            Path.Combine(folder, BridgeFileName),
            Path.Combine(folder, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", BridgeFileName),
            Path.Combine(folder, "runtimes", PortableRid, "native", BridgeFileName),
        };
        var bridge = candidates.FirstOrDefault(File.Exists)
            ?? throw new DistilleryException(
                $"libtorch: {BridgeFileName} not found next to the executable (looked in {string.Join(", ", candidates.Distinct())}); rebuild with `dotnet build` so the TorchSharp-cpu native files are copied there");

        if (OperatingSystem.IsLinux()) PrepareForAddressSpaceLimit(bridge);
        var reason = TryOpen(bridge);
        if (reason is not null)
            throw new DistilleryException($"libtorch cannot be loaded: {reason}; {Hint(reason)}");
        _loaded = true;
    }

    /// <summary>What to change for a loader failure, from the loader's message.</summary>
    public static string Hint(string reason)
    {
        if (reason.Contains("Cannot allocate memory", StringComparison.OrdinalIgnoreCase) || reason.Contains("failed to map segment", StringComparison.OrdinalIgnoreCase))
            return $"raise the virtual-memory limit (ulimit -v, now {LimitText(AddressSpaceLimit())}) or free memory";
        if (reason.Contains("GLIBCXX", StringComparison.Ordinal) || reason.Contains("version `", StringComparison.Ordinal))
            return "the system's libstdc++ is older than the library expects: build with `dotnet build`, which adapts the copy in the output folder (README, \"TorchSharp on older libstdc++\")";
        if (reason.Contains("No such file", StringComparison.OrdinalIgnoreCase) || reason.Contains("cannot open shared object", StringComparison.OrdinalIgnoreCase))
            return "a native library is missing from the output folder: rebuild with `dotnet build`";
        if (reason.Contains("ELF", StringComparison.Ordinal) || reason.Contains("too short", StringComparison.OrdinalIgnoreCase))
            return "a native library file is damaged: delete the output folder and rebuild with `dotnet build`";
        if (reason.Contains("Permission denied", StringComparison.OrdinalIgnoreCase))
            return "make the output folder's libraries readable by this user";
        return "check the file named above (rebuild with `dotnet build` if it is damaged)";
    }

    /// <summary>
    /// Under an address-space limit (<c>ulimit -v</c>): refuses to load when the limit leaves less room than the
    /// libraries need — libtorch's static initialisers abort the process (std::bad_alloc) when they run out part-way,
    /// which no caller can catch — and caps glibc's malloc arenas, each of which reserves 64 MB of address space for
    /// the threads that use it (by default up to 8 per core), at one per core.
    /// </summary>
    private static void PrepareForAddressSpaceLimit(string bridge)
    {
        if (AddressSpaceLimit() is not { } limit) return;
        _ = Libc.mallopt(Libc.MArenaMax, Environment.ProcessorCount);
        var libraries = Directory.EnumerateFiles(Path.GetDirectoryName(bridge)!)
            .Where(f => Path.GetFileName(f).Contains(".so", StringComparison.Ordinal) || f.EndsWith(".dylib", StringComparison.Ordinal))
            .Sum(f => new FileInfo(f).Length);
        var needed = libraries + InitialisationBytes;
        var left = limit - AddressSpaceInUse();
        if (left < needed)
            throw new DistilleryException(
                $"libtorch cannot be loaded: its native libraries ({libraries / Mebibyte} MB in {Path.GetDirectoryName(bridge)}, " +
                $"plus about {InitialisationBytes / Mebibyte} MB to initialise) need more address space than the virtual-memory limit of {LimitText(limit)} leaves ({Math.Max(0, left) / Mebibyte} MB); " +
                "raise the virtual-memory limit (ulimit -v) or lift it (ulimit -v unlimited)");
    }

    private const long Mebibyte = 1 << 20;

    /// <summary>
    /// Address space libtorch's static initialisers take beyond its files. Measured here: loading grew the process by
    /// 482 MiB, against 477 MiB of library files (some of which are never loaded); kept generous.
    /// </summary>
    private const long InitialisationBytes = 64 * Mebibyte;

    /// <summary>The loader's reason the file cannot be loaded, or null once it is loaded.</summary>
    private static string? TryOpen(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            // dlerror names the very file that failed (the bridge or one of its dependencies) and the errno text.
            _ = Libc.dlerror();
            if (Libc.dlopen(path, Libc.RtldLazy | Libc.RtldGlobal) != IntPtr.Zero) return null;
            var errno = Marshal.GetLastPInvokeError();
            var error = Libc.dlerror();
            // dlerror has nothing to say when the loader could not even allocate its message: errno still tells why.
            return error != IntPtr.Zero ? Marshal.PtrToStringUTF8(error) : $"{path}: {Marshal.GetPInvokeErrorMessage(errno)}";
        }
        try
        {
            NativeLibrary.Load(path);
            return null;
        }
        catch (DllNotFoundException e)
        {
            return e.Message;
        }
    }

    private static string PortableRid =>
        (OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux") + "-" +
        RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    /// <summary>The soft address-space limit of this process in bytes (/proc/self/limits), or null when unlimited or unknown.</summary>
    /// <exception cref="IOException">/proc/self/limits cannot be read.</exception>
    internal static long? AddressSpaceLimit()
    {
        if (!OperatingSystem.IsLinux()) return null;
        var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max address space", StringComparison.Ordinal));
        var soft = line?["Max address space".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return long.TryParse(soft, out var bytes) ? bytes : null;
    }

    /// <summary>The address space this process has mapped or reserved, in bytes (VmSize in /proc/self/status).</summary>
    private static long AddressSpaceInUse()
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmSize:", StringComparison.Ordinal));
        return long.Parse(line["VmSize:".Length..].Trim().Split(' ')[0]) * 1024;
    }

    /// <summary>A limit as <c>ulimit -v</c> states it: KiB.</summary>
    private static string LimitText(long? bytes) => bytes is { } b ? $"{b / 1024} KiB" : "unlimited";

    private static class Libc
    {
        public const int RtldLazy = 0x1, RtldGlobal = 0x100;

        /// <summary>mallopt's M_ARENA_MAX (glibc malloc.h).</summary>
        public const int MArenaMax = -8;

        // glibc ≥ 2.34 has dlopen in libc itself; libdl.so.2 remains as a compatibility name everywhere.
        [DllImport("libdl.so.2", CharSet = CharSet.Ansi, BestFitMapping = false, SetLastError = true)]
        public static extern IntPtr dlopen(string file, int mode);

        [DllImport("libdl.so.2")]
        public static extern IntPtr dlerror();

        [DllImport("libc.so.6")]
        public static extern int mallopt(int param, int value);
    }
}
