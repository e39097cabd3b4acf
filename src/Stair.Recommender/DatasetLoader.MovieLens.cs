// The embedded MovieLens data set: where it is found, where its prepared form is cached, and
// loading it through the ordinary MMRec path.
using Stair.Recommender.Data;

namespace Stair.Recommender;

public static partial class DatasetLoader
{
    /// <summary>The repository folder of the embedded MovieLens data, relative to the repository root (and to the build output).</summary>
    public const string MovieLensFolder = "data/movielens-small";

    /// <summary>Environment variable that overrides the default cache directory of prepared data sets.</summary>
    public const string CacheVariable = "STAIR_CACHE_DIR";

    /// <summary>
    /// The embedded MovieLens: prepares (once, cached; see <see cref="MovieLensPreparation"/>) the MMRec layout
    /// from data/movielens-small and loads it. The first preparation embeds 9,066 titles with MiniLM
    /// (about two minutes on two cores); later calls read the cache.
    /// </summary>
    /// <param name="dataDirectory">The folder holding ratings.csv, movies.csv and README.md; null for the embedded copy
    /// (data/movielens-small beside the assembly, which the build copies there, or found by walking up from it).</param>
    /// <param name="log">Progress lines, or null.</param>
    /// <param name="cacheDirectory">Where prepared data sets live; null for <see cref="DefaultCacheDirectory"/>.</param>
    public static RecommendationDataset MovieLens(string? dataDirectory = null, TextWriter? log = null, string? cacheDirectory = null)
    {
        string data = dataDirectory ?? DefaultMovieLensDirectory();
        string prepared = MovieLensPreparation.Prepare(data, cacheDirectory ?? DefaultCacheDirectory(), log);
        return Load(prepared);
    }

    /// <summary>
    /// Where prepared data sets are cached unless told otherwise: $STAIR_CACHE_DIR when set; else
    /// <c>artifacts/cache</c> in the repository checkout the assembly was built in (found by walking up to
    /// Kernels.sln; git ignores artifacts/); else <c>stair-recommender/cache</c> under the user's local application
    /// data folder (the temp folder when there is none).
    /// </summary>
    public static string DefaultCacheDirectory()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            return fromEnvironment;
        }
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Kernels.sln")))
            {
                return Path.Combine(dir.FullName, "artifacts", "cache");
            }
        }
        string local = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        return Path.Combine(string.IsNullOrEmpty(local) ? Path.GetTempPath() : local, "stair-recommender", "cache");
    }

    /// <summary>The embedded MovieLens folder: data/movielens-small in the assembly's folder or the nearest folder above it.</summary>
    /// <exception cref="DirectoryNotFoundException">No such folder holds ratings.csv.</exception>
    public static string DefaultMovieLensDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, MovieLensFolder);
            if (File.Exists(Path.Combine(candidate, "ratings.csv")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException(
            $"The embedded MovieLens ({MovieLensFolder}) is neither beside {AppContext.BaseDirectory} nor above it; pass its folder explicitly.");
    }
}
