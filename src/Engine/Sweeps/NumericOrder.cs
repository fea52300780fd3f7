namespace Distillery.Engine.Sweeps;

/// <summary>
/// Ordinal string order in which runs of digits compare as numbers, so that sweep folders list as people count:
/// imagesPerClass-1, imagesPerClass-2, imagesPerClass-10 (ordinal order puts 10 before 1_ and 2).
/// </summary>
public sealed class NumericOrder : IComparer<string>
{
    public static readonly NumericOrder Instance = new();

    public int Compare(string? x, string? y)
    {
        if (x is null || y is null) return x is null ? (y is null ? 0 : -1) : 1;
        int i = 0, j = 0;
        while (i < x.Length && j < y.Length)
        {
            if (char.IsAsciiDigit(x[i]) && char.IsAsciiDigit(y[j]))
            {
                var a = DigitRun(x, ref i);
                var b = DigitRun(y, ref j);
                // Without leading zeros, a longer run is a larger number; equal lengths compare digit by digit.
                var byNumber = a.TrimStart('0').Length.CompareTo(b.TrimStart('0').Length);
                if (byNumber == 0) byNumber = string.CompareOrdinal(a.TrimStart('0'), b.TrimStart('0'));
                if (byNumber != 0) return byNumber;
                continue;
            }
            var byChar = x[i].CompareTo(y[j]);
            if (byChar != 0) return byChar;
            i++;
            j++;
        }
        var byLength = (x.Length - i).CompareTo(y.Length - j);
        return byLength != 0 ? byLength : string.CompareOrdinal(x, y);
    }

    private static string DigitRun(string text, ref int index)
    {
        var start = index;
        while (index < text.Length && char.IsAsciiDigit(text[index])) index++;
        return text[start..index];
    }
}
