// The MovieLens preparation: on the full data with a cheap stand-in text encoder (split counts,
// chronology, ids, genres, texts, caching), and on a 5-user subset with the real MiniLM
// (shapes, unit norm, same bytes twice). The full MiniLM pass (~1 min here) is not run in tests.
using System.Globalization;
using Stair.Kernels;
using Stair.Recommender.Data;
using Stair.Recommender.Features;
using Stair.Recommender.Tests.Infrastructure;

namespace Stair.Recommender.Tests.Data;

public class MovieLensPreparationTests
{
    private const int StandInColumns = 8;

    private static string DataDirectory => DatasetLoader.DefaultMovieLensDirectory();

    /// <summary>A deterministic stand-in encoder: row k = (k, text length, 1, 0, …); it records the texts it saw.</summary>
    private sealed class StandInEncoder
    {
        public List<string> Texts { get; } = [];

        public int Calls { get; private set; }

        public float[] Embed(IReadOnlyList<string> texts)
        {
            Calls++;
            Texts.AddRange(texts);
            var values = new float[texts.Count * StandInColumns];
            for (int k = 0; k < texts.Count; k++)
            {
                values[k * StandInColumns] = k;
                values[k * StandInColumns + 1] = texts[k].Length;
                values[k * StandInColumns + 2] = 1;
            }
            return values;
        }
    }

    private sealed record RatingRow(int UserId, int MovieId, long Timestamp);

    private static List<RatingRow> ReadRatings(string dir) =>
        File.ReadLines(Path.Combine(dir, "ratings.csv")).Skip(1).Where(l => l.Length > 0).Select(l =>
        {
            string[] f = l.Split(',');
            return new RatingRow(int.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture), long.Parse(f[3], CultureInfo.InvariantCulture));
        }).ToList();

    [Fact]
    public void FullData_SplitsEveryUserChronologically8010_10WithContiguousIds()
    {
        using var cache = new TempDirectory();
        var encoder = new StandInEncoder();
        string prepared = MovieLensPreparation.Prepare(DataDirectory, cache.Path, null, encoder.Embed, "stand-in");
        RecommendationDataset data = DatasetLoader.Load(prepared);

        List<RatingRow> ratings = ReadRatings(DataDirectory);
        int[] userIds = ratings.Select(r => r.UserId).Distinct().Order().ToArray();
        Assert.Equal("movielens", data.Name);
        Assert.Equal(671, data.Users);
        Assert.Equal(9066, data.Items);
        Assert.Equal(100_004, data.Train.NonZeros + data.Validation.NonZeros + data.Test.NonZeros);

        // Independently of the code under test: user u (u-th smallest userId) with n ratings has
        // round-half-up(n/10) validation and as many test interactions, all later than its training ones.
        string[] inter = File.ReadAllLines(Path.Combine(prepared, "movielens.inter"));
        Assert.Equal("userID\titemID\trating\ttimestamp\tx_label", inter[0]);
        var rows = inter.Skip(1).Select(l => l.Split('\t')).Select(f => (User: int.Parse(f[0], CultureInfo.InvariantCulture),
            Time: long.Parse(f[3], CultureInfo.InvariantCulture), Item: int.Parse(f[1], CultureInfo.InvariantCulture), Label: int.Parse(f[4], CultureInfo.InvariantCulture))).ToList();
        // Rows go user by user, each user's ratings by (timestamp, item): ties in time broken by the smaller item id.
        var order = rows.Select(r => (r.User, r.Time, r.Item)).ToList();
        Assert.Equal(order.Order(), order);
        Dictionary<int, int> counts = ratings.GroupBy(r => r.UserId).ToDictionary(g => g.Key, g => g.Count());
        var byUser = rows.ToLookup(r => r.User);
        for (int u = 0; u < userIds.Length; u++)
        {
            int n = counts[userIds[u]];
            Assert.True(n >= 20);
            int h = (int)Math.Floor(n / 10.0 + 0.5);
            Assert.Equal(n - 2 * h, data.Train.RowLength(u));
            Assert.Equal(h, data.Validation.RowLength(u));
            Assert.Equal(h, data.Test.RowLength(u));
            var mine = byUser[u].ToList();
            long lastTrain = mine.Where(r => r.Label == 0).Max(r => r.Time);
            Assert.True(lastTrain <= mine.Where(r => r.Label == 1).Min(r => r.Time));
            Assert.True(mine.Where(r => r.Label == 1).Max(r => r.Time) <= mine.Where(r => r.Label == 2).Min(r => r.Time));
        }

        // Items by ascending movieId: item 0 is movieId 1 (Toy Story), the last the largest movieId.
        string[] itemMap = File.ReadAllLines(Path.Combine(prepared, "item_ids.tsv"));
        Assert.Equal("0\t1", itemMap[1]);
        Assert.Equal($"9065\t{File.ReadLines(Path.Combine(DataDirectory, "movies.csv")).Skip(1).Select(l => int.Parse(l[..l.IndexOf(',')], CultureInfo.InvariantCulture)).Max()}", itemMap[^1]);
        Assert.Equal($"670\t{userIds[^1]}", File.ReadAllLines(Path.Combine(prepared, "user_ids.tsv"))[^1]);
    }

    [Fact]
    public void FullData_TextAndGenreFeaturesFollowTheRules()
    {
        using var cache = new TempDirectory();
        var encoder = new StandInEncoder();
        string prepared = MovieLensPreparation.Prepare(DataDirectory, cache.Path, null, encoder.Embed, "stand-in");
        RecommendationDataset data = DatasetLoader.Load(prepared);

        Assert.Equal(9066, encoder.Texts.Count);
        Assert.Equal("Toy Story (1995) Adventure, Animation, Children, Comedy, Fantasy", encoder.Texts[0]);
        // movieId 108548 has title and year "NA" (the R export's missing value) and the genre Comedy.
        int naItem = Array.FindIndex(File.ReadAllLines(Path.Combine(prepared, "item_ids.tsv")), l => l.EndsWith("\t108548", StringComparison.Ordinal)) - 1;
        Assert.Equal("Comedy", encoder.Texts[naItem]);
        Assert.Equal(encoder.Texts, TextFeatures.ReadItemTexts(Path.Combine(prepared, "items.tsv")));

        Assert.Equal(["genres", "text"], data.Modalities.Select(m => m.Name));
        Assert.Equal([1, 5], data.Modalities.Select(m => m.DefaultK));
        ModalityFeatures genres = data.Modalities[0];
        string[] genreNames = File.ReadAllLines(Path.Combine(prepared, "genres.txt"));
        Assert.Equal(19, genres.Columns);
        Assert.Equal(genreNames.Order(StringComparer.Ordinal), genreNames);
        Assert.DoesNotContain("(no genres listed)", genreNames);
        string[] toyStory = genreNames.Where((_, c) => genres.Features[c] == 1f).ToArray();
        Assert.Equal(["Adventure", "Animation", "Children", "Comedy", "Fantasy"], toyStory);
        Assert.All(genres.Features, v => Assert.True(v is 0f or 1f));
        ModalityFeatures text = data.Modalities[1];
        Assert.Equal(StandInColumns, text.Columns);
        Assert.Equal(9065f, text.Features[9065 * StandInColumns]);
    }

    [Fact]
    public void Prepare_ReusesTheCacheAndKeysItByTheInputs()
    {
        using var cache = new TempDirectory();
        var first = new StandInEncoder();
        string a = MovieLensPreparation.Prepare(DataDirectory, cache.Path, null, first.Embed, "stand-in");
        var second = new StandInEncoder();
        string b = MovieLensPreparation.Prepare(DataDirectory, cache.Path, null, second.Embed, "stand-in");
        Assert.Equal(a, b);
        Assert.Equal(0, second.Calls);
        Assert.Single(Directory.GetDirectories(cache.Path)); // no temporary folder left behind

        string c = MovieLensPreparation.Prepare(DataDirectory, cache.Path, null, second.Embed, "another model");
        Assert.NotEqual(a, c);
        Assert.Equal(1, second.Calls);
        Assert.True(File.Exists(Path.Combine(a, "README.md")));
        Assert.Contains("GroupLens", File.ReadAllText(Path.Combine(a, "README.md")));
    }

    [Fact]
    public void Subset_WithMiniLM_HasUnitNormTextRowsAndIsByteIdenticalTwice()
    {
        using var data = new TempDirectory("movielens-subset");
        WriteSubset(DataDirectory, data.Path, maxUserId: 5);
        using var cache1 = new TempDirectory();
        using var cache2 = new TempDirectory();

        RecommendationDataset first = DatasetLoader.MovieLens(data.Path, null, cache1.Path);
        string dir1 = Directory.GetDirectories(cache1.Path).Single();
        string dir2 = MovieLensPreparation.Prepare(data.Path, cache2.Path);

        Assert.Equal(5, first.Users);
        Assert.Equal(385, first.Items);
        ModalityFeatures text = first.Modalities.Single(m => m.Name == "text");
        Assert.Equal(TextFeatures.Dimensions, text.Columns);
        Assert.Equal(5, text.DefaultK);
        for (int r = 0; r < text.Rows; r++)
        {
            double norm = Math.Sqrt(text.Features.AsSpan(r * 384, 384).ToArray().Sum(v => (double)v * v));
            Assert.InRange(norm, 1 - 1e-5, 1 + 1e-5); // unit vectors rounded to float32
        }
        string[] files = Directory.GetFiles(dir1).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(files, Directory.GetFiles(dir2).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (string file in files)
        {
            Assert.True(File.ReadAllBytes(Path.Combine(dir1, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir2, file))), file);
        }
    }

    [Fact]
    public void Read_MalformedCsv_NamesFileAndLine()
    {
        using var data = new TempDirectory();
        File.Copy(Path.Combine(DataDirectory, "movies.csv"), data.File("movies.csv"));
        File.Copy(Path.Combine(DataDirectory, "README.md"), data.File("README.md"));
        File.WriteAllText(data.File("ratings.csv"), "\"userId\",\"movieId\",\"rating\",\"timestamp\"\n1,31,2.5,1260759144\n1,999999,3,1260759179\n");
        var e = Assert.Throws<InvalidDataException>(() => MovieLensPreparation.Read(data.Path));
        Assert.Equal("ratings.csv: line 3: movieId 999999 is not in movies.csv.", e.Message);

        File.WriteAllText(data.File("ratings.csv"), "\"userId\",\"movieId\",\"rating\",\"timestamp\"\n1,31,2.5,1260759144\n1,31,3,1260759179\n");
        e = Assert.Throws<InvalidDataException>(() => MovieLensPreparation.Read(data.Path));
        Assert.Equal("ratings.csv: line 3: user 1 rated movie 31 a second time.", e.Message);

        File.WriteAllText(data.File("ratings.csv"), "userId,movieId,stars,timestamp\n");
        e = Assert.Throws<InvalidDataException>(() => MovieLensPreparation.Read(data.Path));
        Assert.Contains("ratings.csv: line 1 names the columns userId,movieId,stars,timestamp", e.Message);
    }

    [Theory]
    [InlineData("1,\"Toy Story,1995,Adventure\n", "movies.csv: line 2: a quoted field is not closed.")]
    [InlineData("1,\"Toy\nStory\",1995,Adventure\n", "movies.csv: line 2: a quoted field is not closed.")]
    [InlineData("1,\"Toy\" Story,1995,Adventure\n", "movies.csv: line 2: text after a closing quote at column 8.")]
    [InlineData("1,Toy Story,1995\n", "movies.csv: line 2 has 3 fields; expected 4 (movieId,title,year,genres).")]
    public void Read_MalformedQuotes_NameFileAndLine(string row, string message)
    {
        // Quoting rules a general CSV reader (Sep) relaxes: an unclosed quote, a line break inside
        // quotes and text after a closing quote are errors here, as is a row with too few fields.
        using var data = new TempDirectory();
        File.Copy(Path.Combine(DataDirectory, "ratings.csv"), data.File("ratings.csv"));
        File.WriteAllText(data.File("movies.csv"), "movieId,title,year,genres\n" + row);
        var e = Assert.Throws<InvalidDataException>(() => MovieLensPreparation.Read(data.Path));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Read_QuotedTitlesKeepCommasAndQuotes()
    {
        MovieLensPreparation.Source source = MovieLensPreparation.Read(DataDirectory);
        Assert.Equal("American President, The", source.Movies.Single(m => m.MovieId == 11).Title);
        Assert.Equal("\"Great Performances\" Cats", source.Movies.Single(m => m.MovieId == 51372).Title);
        Assert.Equal(9066, source.Movies.Length);
        Assert.Equal(100_004, source.Ratings.Length);
    }

    /// <summary>Copies the ratings of users with userId ≤ <paramref name="maxUserId"/> and the movies they rated.</summary>
    internal static void WriteSubset(string from, string to, int maxUserId)
    {
        string[] ratings = File.ReadAllLines(Path.Combine(from, "ratings.csv"));
        string[] kept = ratings.Skip(1).Where(l => int.Parse(l[..l.IndexOf(',')], CultureInfo.InvariantCulture) <= maxUserId).ToArray();
        var movies = kept.Select(l => l.Split(',')[1]).ToHashSet();
        string[] movieLines = File.ReadAllLines(Path.Combine(from, "movies.csv"));
        File.WriteAllLines(Path.Combine(to, "ratings.csv"), [ratings[0], .. kept]);
        File.WriteAllLines(Path.Combine(to, "movies.csv"), [movieLines[0], .. movieLines.Skip(1).Where(l => movies.Contains(l[..l.IndexOf(',')]))]);
        File.Copy(Path.Combine(from, "README.md"), Path.Combine(to, "README.md"));
    }
}
