// `stair-kernels prepare` end to end on a 5-user MovieLens subset with the real MiniLM: the MMRec
// files in a cache folder, its path as the last line, the cache reused; one error line for bad input.
using Stair.Kernels.Cli;
using Stair.Recommender.Tests.Infrastructure;

namespace Stair.Recommender.Tests.Data;

public class PrepareCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Prepare_writes_the_mmrec_layout_into_the_cache_and_prints_its_path()
    {
        using var data = new TempDirectory("movielens-subset");
        MovieLensPreparationTests.WriteSubset(DatasetLoader.DefaultMovieLensDirectory(), data.Path, maxUserId: 5);
        using var cache = new TempDirectory();

        var (code, stdout, stderr) = Run("prepare", "--data", data.Path, "--cache", cache.Path);

        Assert.True(code == 0, stderr);
        string prepared = stdout.TrimEnd().Split('\n')[^1].TrimEnd('\r');
        Assert.Equal(Directory.GetDirectories(cache.Path).Single(), prepared);
        foreach (string file in new[] { "movielens.inter", "text_feat.npy", "genres_feat.npy" })
        {
            Assert.True(File.Exists(Path.Combine(prepared, file)), file);
        }
        Assert.Equal(5, DatasetLoader.Load(prepared).Users);

        var again = Run("prepare", "--cache=" + cache.Path, "--data=" + data.Path);
        Assert.True(again.Code == 0, again.Err);
        Assert.Contains("using the prepared data", again.Out);
        Assert.EndsWith(prepared, again.Out.TrimEnd());
    }

    [Fact]
    public void Prepare_of_a_folder_without_movielens_is_one_error_line()
    {
        using var empty = new TempDirectory();
        using var cache = new TempDirectory();
        var (code, stdout, stderr) = Run("prepare", "--data", empty.Path, "--cache", cache.Path);
        Assert.Equal(2, code);
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("error: ", stderr);
        Assert.DoesNotContain(Directory.GetDirectories(cache.Path), d => !Path.GetFileName(d).Contains(".tmp-", StringComparison.Ordinal));
    }
}
