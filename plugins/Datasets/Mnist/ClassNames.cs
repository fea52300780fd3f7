namespace Distillery.Datasets;

/// <summary>The class names of the MNIST-family datasets, in label order.</summary>
public static class ClassNames
{
    public static IReadOnlyList<string> FashionMnist { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static IReadOnlyList<string> Mnist { get; } = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>Kuzushiji-MNIST: one row of hiragana each, romanised.</summary>
    public static IReadOnlyList<string> Kmnist { get; } = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"];
}
