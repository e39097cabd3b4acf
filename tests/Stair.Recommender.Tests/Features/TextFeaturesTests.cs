// MiniLM text features against sentence-transformers' own output, the items.tsv format, and
// `stair-kernels features`.
using Stair.Kernels.Cli;
using Stair.Kernels.IO;
using Stair.Recommender.Features;
using Stair.Recommender.Tests.Infrastructure;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Recommender.Tests.Features;

public class TextFeaturesTests
{
    [Fact]
    public void Embed_KnownSentence_MatchesSentenceTransformersAndIsUnitNorm()
    {
        float[] e = TextFeatures.Embed(["This is an example sentence"]);

        Assert.Equal(384, e.Length);
        Assert.InRange(Math.Sqrt(e.Sum(v => (double)v * v)), 1 - 1e-6, 1 + 1e-6);
        // The first components from Python sentence-transformers (PyTorch) for all-MiniLM-L6-v2. ONNX Runtime
        // sums in another order, so float32 rounding may differ by ~1e-7 per component; 1e-5 leaves room for that
        // and nothing else (a wrong pooling, tokenizer or normalization moves them by 1e-2 or more).
        double[] reference = [0.0676569119, 0.0634959456, 0.0487131625, 0.0793049634, 0.0374480858];
        for (int k = 0; k < reference.Length; k++)
        {
            Assert.Equal(reference[k], e[k], 1e-5);
        }
    }

    [Fact]
    public void Embed_DoesNotDependOnTheBatchOrRepeats()
    {
        string[] texts = ["Toy Story (1995) Adventure, Animation, Children, Comedy, Fantasy", "", "Heat (1995) Action, Crime, Thriller"];
        float[] together = TextFeatures.Embed(texts);
        for (int k = 0; k < texts.Length; k++)
        {
            float[] alone = TextFeatures.Embed([texts[k]]);
            Bits.AssertBitsEqual(together.AsSpan(k * 384, 384), alone, $"text {k} alone vs in the batch");
        }
        Bits.AssertBitsEqual(together, TextFeatures.Embed(texts), "embedding twice");
        Assert.Empty(TextFeatures.Embed([]));
    }

    [Fact]
    public void ItemTexts_RoundTripAndAcceptAnyIdOrder()
    {
        using var dir = new TempDirectory();
        string path = dir.File("items.tsv");
        TextFeatures.WriteItemTexts(path, ["a", "b, with comma", ""]);
        Assert.Equal("itemID\ttext\n0\ta\n1\tb, with comma\n2\t\n", File.ReadAllText(path));
        Assert.Equal(["a", "b, with comma", ""], TextFeatures.ReadItemTexts(path));

        File.WriteAllText(path, "itemID\ttext\r\n1\tsecond\ttab kept\r\n\r\n0\tfirst\r\n");
        Assert.Equal(["first", "second\ttab kept"], TextFeatures.ReadItemTexts(path));
        Assert.Throws<ArgumentException>(() => TextFeatures.WriteItemTexts(path, ["line\nbreak"]));
    }

    [Theory]
    [InlineData("id\ttext\n0\ta\n", "items.tsv: line 1 must be the header 'itemID<TAB>text'")]
    [InlineData("itemID\ttext\n0 a\n", "items.tsv: line 2 has no tab")]
    [InlineData("itemID\ttext\n0\ta\nx\tb\n", "items.tsv: line 3: item id 'x' is not a non-negative integer")]
    [InlineData("itemID\ttext\n0\ta\n0\tb\n", "items.tsv: line 3: item id 0 appears a second time")]
    [InlineData("itemID\ttext\n0\ta\n2\tb\n", "items.tsv: item id 2 is out of range: 2 items need ids 0 … 1, and id 1 is missing")]
    [InlineData("itemID\ttext\n", "items.tsv: no items after the header")]
    public void ItemTexts_Malformed_NamesTheLine(string content, string message)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("items.tsv"), content);
        var e = Assert.Throws<InvalidDataException>(() => TextFeatures.ReadItemTexts(dir.File("items.tsv")));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void FeaturesCommand_WritesTheEmbeddingsAsNpy()
    {
        using var dir = new TempDirectory();
        string[] texts = ["Heat (1995) Action, Crime, Thriller", "Toy Story (1995) Adventure, Animation, Children, Comedy, Fantasy"];
        File.WriteAllText(dir.File("items.tsv"), $"itemID\ttext\n1\t{texts[1]}\n0\t{texts[0]}\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        int code = CliApp.Run(["features", "--text", dir.File("items.tsv"), "--output", dir.File("text_feat.npy")], stdout, stderr);

        Assert.Equal(0, code);
        Assert.Equal("", stderr.ToString());
        Assert.Contains("2 × 384 text features", stdout.ToString());
        float[] written = Npy.ReadMatrix(dir.File("text_feat.npy"), out int rows, out int columns);
        Assert.Equal((2, 384), (rows, columns));
        Bits.AssertBitsEqual(TextFeatures.Embed(texts), written, "embeddings written to .npy");
    }

    [Fact]
    public void FeaturesCommand_BadInput_IsOneErrorLine()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("items.tsv"), "text\nhello\n");
        var stderr = new StringWriter();

        int code = CliApp.Run(["features", "--text", dir.File("items.tsv"), "--output", dir.File("out.npy")], new StringWriter(), stderr);

        Assert.Equal(2, code);
        Assert.StartsWith("error: items.tsv: line 1 must be the header", stderr.ToString());
        Assert.False(File.Exists(dir.File("out.npy")));
        Assert.Equal(2, CliApp.Run(["features", "--output", dir.File("out.npy")], new StringWriter(), new StringWriter()));
    }
}
