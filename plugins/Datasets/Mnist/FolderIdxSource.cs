using Distillery.Abstractions;

namespace Distillery.Datasets;

/// <summary>IDX files in a folder, each either raw or gzipped (<c>name</c> or <c>name.gz</c>).</summary>
/// <param name="folder">The folder, already checked to exist (<see cref="DatasetFolder.Require"/>): a missing one shows as its files not found.</param>
public sealed class FolderIdxSource(string folder) : IIdxSource
{
    public string Location { get; } = System.IO.Path.GetFullPath(folder);

    public IdxArray Read(string baseName, int expectedMagic) => IdxFile.ReadFile(Resolve(baseName), expectedMagic);

    public IdxArray Check(string baseName, int expectedMagic) => IdxFile.CheckFile(Resolve(baseName), expectedMagic);

    /// <summary>
    /// The raw file when present (no decompression needed), else the gzipped one; when neither exists the
    /// error lists both names that were looked for.
    /// </summary>
    public string Resolve(string baseName)
    {
        string[] candidates = [System.IO.Path.Combine(Location, baseName), System.IO.Path.Combine(Location, baseName + ".gz")];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new DataFormatException(candidates[0],
                $"file not found: looked for {baseName} and {baseName}.gz in {Location}");
    }
}
