namespace Distillery.Datasets;

/// <summary>
/// The content of one IDX file of unsigned bytes: its dimensions and its data in row-major order.
/// <see cref="Source"/> is the path or display name, kept so that later checks can name the file.
/// </summary>
public sealed record IdxArray(string Source, int[] Dimensions, byte[] Data)
{
    /// <summary>The first dimension: number of images or labels.</summary>
    public int Count => Dimensions[0];
}
