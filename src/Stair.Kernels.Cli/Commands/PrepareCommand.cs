// `stair-kernels prepare`: the embedded MovieLens in the MMRec layout (prepared once, cached),
// so other tools can read the same .inter and _feat.npy files.
using System.CommandLine;
using Stair.Recommender;
using Stair.Recommender.Data;

namespace Stair.Kernels.Cli.Commands;

internal static class PrepareCommand
{
    public static Command Create()
    {
        var dataOption = CliOptions.Path("--data", "DIR", "the MovieLens folder with ratings.csv and movies.csv (default: data/movielens-small of the checkout)");
        var cache = CliOptions.Path("--cache", "DIR", "the cache folder (default: $STAIR_CACHE_DIR, else artifacts/cache in the checkout)");
        var command = new Command("prepare", """
            Prepares MovieLens (ratings.csv + movies.csv) into the MMRec layout — movielens.inter,
            text_feat.npy (MiniLM, 384-d), genres_feat.npy (multi-hot) — once, in a cache folder keyed by a
            hash of the inputs (default: $STAIR_CACHE_DIR, else artifacts/cache in the checkout), and prints its path.
            """)
        {
            dataOption, cache,
        };
        command.SetAction(parse =>
        {
            TextWriter stdout = parse.InvocationConfiguration.Output;
            string data = parse.GetValue(dataOption) ?? DatasetLoader.DefaultMovieLensDirectory();
            string prepared = MovieLensPreparation.Prepare(data, parse.GetValue(cache) ?? DatasetLoader.DefaultCacheDirectory(), stdout);
            RecommendationDataset dataset = DatasetLoader.Load(prepared);
            stdout.WriteLine(dataset);
            stdout.WriteLine(prepared);
            return 0;
        });
        return command;
    }
}
