using System.Globalization;
using Distillery.Abstractions;
using Distillery.Abstractions.Data;
using TorchSharp;

namespace DistilleryPlugin1;

/// <summary>Reads one CSV file of labelled images (the format <see cref="CsvDataset"/> describes).</summary>
public static class CsvImageFile
{
    /// <summary>Reads every image of <paramref name="path"/>.</summary>
    /// <param name="path">The CSV file.</param>
    /// <param name="options">Image shape and pixel scale.</param>
    /// <param name="classNames">The classes to map names to (the test file uses the training file's); null: the
    /// file's own distinct class names, sorted ordinally.</param>
    /// <param name="cancellation">Stops reading between lines.</param>
    /// <returns>Images float32 [N, C, H, W] in [0, 1] and labels int64 [N], on the CPU; the caller owns them.</returns>
    /// <exception cref="DataFormatException">The file is missing, holds no image, or a line has the wrong number of values,
    /// a value that is not a number or lies outside [0, maxValue], or a class the training file does not have.</exception>
    public static ImageSet Read(string path, CsvDatasetOptions options, IReadOnlyList<string>? classNames, CancellationToken cancellation)
    {
        var pixelsPerImage = options.Channels * options.Height * options.Width;
        var pixels = new List<float>();
        var names = new List<string>();
        var lineNumber = 0;
        foreach (var line in Lines(path))
        {
            lineNumber++;
            cancellation.ThrowIfCancellationRequested();
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = Fields(path, lineNumber, line, pixelsPerImage);
            names.Add(fields[0].Trim());
            for (var i = 1; i < fields.Length; i++)
            {
                if (!double.TryParse(fields[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0 || value > options.MaxValue)
                    throw new DataFormatException(path, $"line {lineNumber}, value {i}: '{fields[i].Trim()}' is not a number in [0, {options.MaxValue}] (dataset.options.maxValue)");
                pixels.Add((float)(value / options.MaxValue));
            }
        }
        if (names.Count == 0) throw new DataFormatException(path, "holds no image line");

        var classes = classNames ?? names.Distinct().Order(StringComparer.Ordinal).ToList();
        var index = classes.Select((name, i) => (name, i)).ToDictionary(p => p.name, p => (long)p.i);
        var labels = new long[names.Count];
        for (var n = 0; n < names.Count; n++)
            labels[n] = index.TryGetValue(names[n], out var label) ? label
                : throw new DataFormatException(path, $"image {n + 1} has class '{names[n]}', which train.csv does not have");
        var images = torch.tensor(pixels.ToArray(), [names.Count, options.Channels, options.Height, options.Width]);
        return new ImageSet(images, torch.tensor(labels), classes);
    }

    /// <summary>Checks that <paramref name="path"/> exists and that its first image line has a class and C·H·W values.</summary>
    /// <exception cref="DataFormatException">It does not.</exception>
    public static void CheckFirstLine(string path, CsvDatasetOptions options)
    {
        var lineNumber = 0;
        foreach (var line in Lines(path))
        {
            lineNumber++;
            if (line.Length == 0 || line[0] == '#') continue;
            Fields(path, lineNumber, line, options.Channels * options.Height * options.Width);
            return;
        }
        throw new DataFormatException(path, "holds no image line");
    }

    private static IEnumerable<string> Lines(string path) => File.Exists(path)
        ? File.ReadLines(path)
        : throw new DataFormatException(path, "not found: the dataset folder must hold train.csv and test.csv (dataset.options.path)");

    private static string[] Fields(string path, int lineNumber, string line, int pixelsPerImage)
    {
        var fields = line.Split(',');
        return fields.Length == pixelsPerImage + 1 ? fields
            : throw new DataFormatException(path, $"line {lineNumber} has {fields.Length - 1} pixel values, not channels x height x width = {pixelsPerImage} (dataset.options)");
    }
}
