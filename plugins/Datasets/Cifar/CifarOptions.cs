using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Distillery.Datasets;

/// <summary>Options of a CIFAR loader: the folder of binary files and the split limits.</summary>
public class CifarFolderOptions : SplitLimitOptions
{
    [Required, Description("Folder holding the CIFAR binary files (the extracted binary tarball, or its parent).")]
    public string? Path { get; set; }
}

public sealed class Cifar10Options : CifarFolderOptions;

/// <summary>Which of the two labels of a CIFAR-100 record to use.</summary>
public enum CifarLabels
{
    /// <summary>The 100 classes.</summary>
    Fine,

    /// <summary>The 20 superclasses.</summary>
    Coarse,
}

public sealed class Cifar100Options : CifarFolderOptions
{
    [Description("fine: the 100 classes (fine_label_names.txt); coarse: the 20 superclasses (coarse_label_names.txt).")]
    public CifarLabels Labels { get; set; } = CifarLabels.Fine;
}
