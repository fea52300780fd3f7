using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Datasets;

/// <summary>What the image-folder loader does with a file it cannot read or decode.</summary>
public enum BadFilePolicy
{
    /// <summary>Stop with an error naming the file.</summary>
    Fail,

    /// <summary>Log a warning naming the file and leave it out.</summary>
    Skip,
}

/// <summary>The image-folder dataset's options (<see cref="ImageFolderDataset"/>).</summary>
public sealed class ImageFolderOptions
{
    [Required, Description("Folder holding train/<class>/*.png|jpg|jpeg and test/<class>/*.png|jpg|jpeg; class names are the train sub-folder names, sorted ordinally.")]
    public string? Path { get; set; }

    [Range(1, 1024), Description("Output images are size x size: the shorter side is scaled to size (area averaging), then the centre size x size square is kept.")]
    public int Size { get; set; } = 32;

    // The allowed values are stated once, here: `plugins` lists them and the options binder enforces them.
    [AllowedValues(1, 3), Description("1 (grey; colour images become luminance 0.299 R + 0.587 G + 0.114 B) or 3 (RGB; grey images are replicated into the three channels). Alpha is ignored; 16-bit PNGs are reduced to 8 bits (the high byte of each sample).")]
    public int Channels { get; set; } = 3;

    [Description("fail: stop with an error naming an unreadable or corrupt image file; skip: warn, naming the file, and leave it out.")]
    public BadFilePolicy OnBadFile { get; set; } = BadFilePolicy.Fail;
}
