using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace KMeansCentroids;

/// <summary>What <see cref="KMeansCentroids"/> returns for each cluster.</summary>
public enum ClusterImage
{
    /// <summary>The cluster's mean image (a synthetic image: the average of its members).</summary>
    Centroid,

    /// <summary>The real training image nearest the cluster's mean (a k-means coreset of real images).</summary>
    NearestReal,
}

/// <summary>
/// The manifest's <c>algorithm.options</c> for <see cref="KMeansCentroids"/>, in camel case
/// (<c>"imagesPerClass": 10, "output": "nearestReal"</c>). The host checks the attributes before the run starts.
/// </summary>
public sealed class KMeansCentroidsOptions
{
    /// <summary>k: clusters, and so support images, per class.</summary>
    [Range(1, int.MaxValue), Description("Clusters (support images) per class: k of k-means.")]
    public int ImagesPerClass { get; set; } = 10;

    /// <summary>The most Lloyd iterations per class; fewer when the assignment stops changing.</summary>
    [Range(1, 10_000), Description("Most Lloyd iterations per class (stops earlier once no image changes cluster).")]
    public int Iterations { get; set; } = 50;

    /// <summary>Centroids (synthetic mean images) or the real image nearest each centroid.</summary>
    [Description("centroid: each cluster's mean image; nearestReal: the real training image nearest it.")]
    public ClusterImage Output { get; set; } = ClusterImage.Centroid;
}
