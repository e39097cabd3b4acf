// `stair-kernels prepare`: the embedded MovieLens in the MMRec layout (prepared once, cached),
// so other tools can read the same .inter and _feat.npy files.
using Stair.Recommender;
using Stair.Recommender.Data;

namespace Stair.Kernels.Cli.Commands;

internal static class PrepareCommand
{
    public const string Usage = """
        stair-kernels prepare [--data data/movielens-small] [--cache DIR]
          Prepares MovieLens (ratings.csv + movies.csv) into the MMRec layout — movielens.inter,
          text_feat.npy (MiniLM, 384-d), genres_feat.npy (multi-hot) — once, in a cache folder keyed by a
          hash of the inputs (default: $STAIR_CACHE_DIR, else artifacts/cache in the checkout), and prints its path.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["data", "cache"], []);
        string data = a.Optional("data") ?? DatasetLoader.DefaultMovieLensDirectory();
        string prepared = MovieLensPreparation.Prepare(data, a.Optional("cache") ?? DatasetLoader.DefaultCacheDirectory(), stdout);
        RecommendationDataset dataset = DatasetLoader.Load(prepared);
        stdout.WriteLine(dataset);
        stdout.WriteLine(prepared);
        return 0;
    }
}
