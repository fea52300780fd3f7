using ScottPlot;
using SkiaSharp;

namespace Distillery.Engine.Outputs;

/// <summary>
/// Saves ScottPlot plots stacked vertically into one PNG (each panel rendered by ScottPlot at the same width), so
/// every figure keeps its own axes and scale. Written atomically: the status page or a person may open it meanwhile.
/// </summary>
public static class PlotPanels
{
    /// <summary>Width of every panel in pixels: screenshot-sized, readable when pasted into notes.</summary>
    public const int Width = 1000;

    /// <summary>Default height of one panel in pixels.</summary>
    public const int PanelHeight = 320;

    /// <summary>Renders <paramref name="panels"/> top to bottom into <paramref name="path"/> (PNG, Width × panelHeight·count).</summary>
    /// <exception cref="ArgumentException">No panels.</exception>
    public static void Save(string path, IReadOnlyList<Plot> panels, int panelHeight = PanelHeight)
    {
        if (panels.Count == 0) throw new ArgumentException("nothing to plot", nameof(panels));
        using var surface = SKSurface.Create(new SKImageInfo(Width, panelHeight * panels.Count));
        surface.Canvas.Clear(SKColors.White);
        for (var i = 0; i < panels.Count; i++)
        {
            using var panel = SKBitmap.Decode(panels[i].GetImageBytes(Width, panelHeight, ImageFormat.Png));
            surface.Canvas.DrawBitmap(panel, 0, i * panelHeight);
        }
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        AtomicFile.Write(path, png.SaveTo);
    }

    /// <summary>
    /// The first installed of a few common sans-serif families (Debian: fonts-dejavu-core), else ScottPlot's default.
    /// ScottPlot's own Fonts.Sans picks DejaVu Serif on Debian.
    /// </summary>
    private static readonly Lazy<string> SansSerif = new(() =>
    {
        var installed = SKFontManager.Default.GetFontFamilies().ToHashSet(StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans" }.FirstOrDefault(installed.Contains) ?? Fonts.Default;
    });

    /// <summary>A panel with the shared look: a sans-serif font, title, axis labels, a legend in the given corner.</summary>
    public static Plot Panel(string title, string xLabel, string yLabel, Alignment legend = Alignment.UpperRight)
    {
        var plot = new Plot();
        plot.Font.Set(SansSerif.Value);
        plot.Title(title, size: 18);
        plot.XLabel(xLabel, size: 15);
        plot.YLabel(yLabel, size: 15);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Legend.FontSize = 13;
        plot.ShowLegend(legend);
        return plot;
    }
}
