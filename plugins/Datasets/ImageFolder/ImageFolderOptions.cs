using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Distillery.Abstractions.Plugins;

namespace Distillery.Datasets;

/// <summary>What the image-folder loader does with a file it cannot read or decode.</summary>
public enum BadFilePolicy
{
    /// <summary>Stop with an error naming the file.</summary>
    Fail,

    /// <summary>Log a warning naming the file and leave it out.</summary>
    Skip,
}

public sealed class ImageFolderOptions : IValidatableOptions
{
    [Description("Folder holding train/<class>/*.png|jpg|jpeg and test/<class>/*.png|jpg|jpeg; class names are the train sub-folder names, sorted ordinally.")]
    public string? Path { get; set; }

    [Range(1, 1024), Description("Output images are size x size: the shorter side is scaled to size (area averaging), then the centre size x size square is kept.")]
    public int Size { get; set; } = 32;

    [Range(1, 3), Description("1 (grey; colour images become luminance 0.299 R + 0.587 G + 0.114 B) or 3 (RGB; grey images are replicated into the three channels). Alpha is ignored.")]
    public int Channels { get; set; } = 3;

    [Description("fail: stop with an error naming an unreadable or corrupt image file; skip: warn, naming the file, and leave it out.")]
    public BadFilePolicy OnBadFile { get; set; } = BadFilePolicy.Fail;

    public IEnumerable<(string Option, string Message)> Validate()
    {
        if (Channels is not (1 or 3)) yield return (nameof(Channels), $"must be 1 or 3, got {Channels}");
    }
}
