// `stair-kernels features`: item text features as a .npy, the same MiniLM embedding the MovieLens
// preparation uses, for users who bring their own item texts.
using System.CommandLine;
using Stair.Kernels.IO;
using Stair.Recommender.Features;

namespace Stair.Kernels.Cli.Commands;

internal static class FeaturesCommand
{
    public static Command Create()
    {
        var text = CliOptions.Path("--text", "items.tsv", "UTF-8, header line itemID<TAB>text, then one line per item: id<TAB>text, ids 0 … n−1 each once", required: true);
        var output = CliOptions.Path("--output", "text_feat.npy", "the items × 384 float32 .npy to write", required: true);
        var command = new Command("features", """
            Text features: each item's text embedded by all-MiniLM-L6-v2 (384-d, unit norm, CPU), written as an
            items × 384 float32 .npy in item order (an MMRec <modality>_feat.npy). items.tsv: UTF-8, header line
            itemID<TAB>text, then one line per item, id<TAB>text, ids 0 … n−1 each once.
            """)
        {
            text, output,
        };
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string input = parse.GetRequiredValue(text);
            string outputPath = parse.GetRequiredValue(output);
            string[] texts = TextFeatures.ReadItemTexts(input);
            var started = System.Diagnostics.Stopwatch.StartNew();
            float[] features = TextFeatures.Embed(texts, stdout);
            Npy.Write(outputPath, features, texts.Length, TextFeatures.Dimensions);
            stdout.WriteLine($"{texts.Length:N0} items → {texts.Length:N0} × {TextFeatures.Dimensions} text features in {started.Elapsed.TotalSeconds:F1} s; wrote {outputPath}");
            return 0;
        });
        return command;
    }
}
