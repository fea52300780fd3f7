using System.Reflection;
using Distillery.Abstractions;

namespace Distillery.Datasets;

/// <summary>
/// Gzipped IDX files embedded in an assembly as manifest resources named <c>{prefix}{baseName}.gz</c>
/// (see the EmbeddedResource items of Distillery.Datasets.csproj).
/// </summary>
public sealed class EmbeddedIdxSource(Assembly assembly, string resourcePrefix, string displayName) : IIdxSource
{
    public string Location { get; } = $"embedded:{displayName}";

    public IdxArray Read(string baseName, int expectedMagic) => Open(baseName, (stream, name) => IdxFile.Read(stream, name, expectedMagic));

    public IdxArray Check(string baseName, int expectedMagic) => Open(baseName, (stream, name) => IdxFile.CheckHeader(stream, name, expectedMagic));

    private IdxArray Open(string baseName, Func<Stream, string, IdxArray> parse)
    {
        var resource = resourcePrefix + baseName + ".gz";
        var name = $"{Location}/{baseName}.gz";
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new DataFormatException(name,
                $"resource '{resource}' is missing from {assembly.GetName().Name}; the plugin was built without its embedded data");
        return parse(stream, name);
    }
}
