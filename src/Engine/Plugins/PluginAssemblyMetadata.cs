using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Distillery.Engine.Plugins;

/// <summary>
/// What a plugin file's metadata says about it: its own identity and the identities (name and version) of the
/// assemblies it was compiled against. Read from the file with <see cref="PEReader"/> and <see cref="MetadataReader"/>,
/// so nothing of the plugin is loaded into the runtime: the host decides on these facts whether to load it at all.
/// </summary>
/// <param name="Identity">The plugin assembly's name and version, as in its assembly manifest.</param>
/// <param name="References">Every assembly reference of its manifest, in metadata order.</param>
public sealed record PluginAssemblyMetadata(AssemblyName Identity, IReadOnlyList<AssemblyName> References)
{
    /// <summary>Reads the assembly manifest of the file at <paramref name="path"/>; the file is closed on return.</summary>
    /// <exception cref="BadImageFormatException">The file is not a .NET assembly: not a PE file, a native DLL, or a
    /// .NET module without an assembly manifest.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
    public static PluginAssemblyMetadata Read(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        if (!pe.HasMetadata)
            throw new BadImageFormatException("the file has no .NET metadata", path);
        var reader = pe.GetMetadataReader();
        if (!reader.IsAssembly)
            throw new BadImageFormatException("the file is a .NET module without an assembly manifest", path);
        var references = reader.AssemblyReferences.Select(handle => reader.GetAssemblyReference(handle).GetAssemblyName()).ToList();
        return new PluginAssemblyMetadata(reader.GetAssemblyDefinition().GetAssemblyName(), references);
    }
}
