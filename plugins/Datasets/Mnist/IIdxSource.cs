namespace Distillery.Datasets;

/// <summary>
/// Where MNIST-layout files come from (a folder on disk, the plugin's embedded resources), so that one
/// reader turns either into a dataset.
/// </summary>
public interface IIdxSource
{
    /// <summary>Where the files are, for log lines and dataset descriptions.</summary>
    string Location { get; }

    /// <summary>Reads the file with base name <paramref name="baseName"/> (no ".gz"), checking its magic number.</summary>
    IdxArray Read(string baseName, int expectedMagic);

    /// <summary>Like <see cref="Read"/> but reads the header only (<see cref="IdxFile.CheckFile"/>): the array has no data.</summary>
    IdxArray Check(string baseName, int expectedMagic);
}
