using System.Reflection;
using System.Runtime.Loader;

namespace Distillery.Engine.Plugins;

/// <summary>
/// Loads one plugin and its private dependencies in isolation, resolving them through the plugin's .deps.json.
/// The assemblies that must keep one identity across host and plugins (contracts, TorchSharp, MEF and the
/// Microsoft.Extensions abstractions) are left to the default context, otherwise the plugin's types would
/// implement a second copy of the interfaces and no plugin would be found.
/// </summary>
/// <param name="mainAssemblyPath">The plugin's entry assembly; its .deps.json (if any) lists the private dependencies.</param>
public sealed class PluginLoadContext(string mainAssemblyPath)
    : AssemblyLoadContext(Path.GetFileNameWithoutExtension(mainAssemblyPath), isCollectible: false)
{
    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

    /// <summary>
    /// Whether the assembly <paramref name="name"/> is one the host shares with every plugin (resolved from the
    /// default context, never from the plugin's folder). Of these, the contracts and TorchSharp are version-checked
    /// before a plugin loads (<see cref="ContractVersions"/>).
    /// </summary>
    public static bool IsShared(AssemblyName name)
    {
        var simpleName = name.Name ?? "";
        return simpleName == ContractVersions.AbstractionsName
            || simpleName == ContractVersions.TorchSharpName
            || simpleName.StartsWith("System.Composition", StringComparison.Ordinal)
            || (simpleName.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) && simpleName.EndsWith(".Abstractions", StringComparison.Ordinal));
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (IsShared(assemblyName)) return null;
        var path = _resolver.ResolveAssemblyToPath(assemblyName);
        return path is null ? null : LoadFromAssemblyPath(path);
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var path = _resolver.ResolveUnmanagedDllToPath(unmanagedDllName);
        return path is null ? IntPtr.Zero : LoadUnmanagedDllFromPath(path);
    }
}
