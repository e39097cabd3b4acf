// `stair-kernels features`: item text features as a .npy, the same MiniLM embedding the MovieLens
// preparation uses, for users who bring their own item texts.
using Stair.Kernels.IO;
using Stair.Recommender.Features;

namespace Stair.Kernels.Cli.Commands;

internal static class FeaturesCommand
{
    public const string Usage = """
        stair-kernels features --text items.tsv --output text_feat.npy
          Text features: each item's text embedded by all-MiniLM-L6-v2 (384-d, unit norm, CPU), written as an
          items × 384 float32 .npy in item order (an MMRec <modality>_feat.npy). items.tsv: UTF-8, header line
          itemID<TAB>text, then one line per item, id<TAB>text, ids 0 … n−1 each once.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["text", "output"], []);
        string input = a.Required("text");
        string output = a.Required("output");
        string[] texts = TextFeatures.ReadItemTexts(input);
        var started = System.Diagnostics.Stopwatch.StartNew();
        float[] features = TextFeatures.Embed(texts, stdout);
        Npy.Write(output, features, texts.Length, TextFeatures.Dimensions);
        stdout.WriteLine($"{texts.Length:N0} items → {texts.Length:N0} × {TextFeatures.Dimensions} text features in {started.Elapsed.TotalSeconds:F1} s; wrote {output}");
        return 0;
    }
}
