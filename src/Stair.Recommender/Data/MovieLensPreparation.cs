// Turns the embedded MovieLens (ratings.csv + movies.csv) into the MMRec layout, deterministically:
// every rating an implicit interaction, contiguous ids, a per-user chronological 80/10/10 split,
// text features (MiniLM over "title (year) genres") and multi-hot genre features. The result is
// cached in a directory keyed by a hash of the inputs, so the minutes of text encoding happen once.
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Stair.Kernels.IO;
using Stair.Recommender.Features;

namespace Stair.Recommender.Data;

/// <summary>Preparation of the MovieLens data set (data/movielens-small) into the MMRec layout.</summary>
/// <remarks>
/// <para>Rules, in order: every rating (whatever its value) is one implicit interaction. Users get ids 0 … U − 1 by
/// ascending <c>userId</c>; items 0 … I − 1 by ascending <c>movieId</c>, one per row of movies.csv (every movie,
/// rated or not). Each user's ratings are ordered by (timestamp, movieId); with n of them, the last
/// h = round(n / 10) (half up: (n + 5) / 10 in integers) are test (x_label 2), the h before them validation
/// (x_label 1), the first n − 2h training (x_label 0). Every MovieLens user has at least 20 ratings, so every
/// user has at least 2 validation and 2 test interactions.</para>
/// <para>Modalities: "text" = all-MiniLM-L6-v2 embedding (384-d, unit norm, k = 5) of
/// "<c>title (year) genre, genre, …</c>" (an "NA" title or year, the R export's missing value, and the genre
/// "(no genres listed)" are left out); "genres" = multi-hot over the genres found in movies.csv, in ordinal order
/// (k = 1; a movie with no genres has a zero row).</para>
/// <para>Output directory: <c>movielens.inter</c>, <c>text_feat.npy</c>, <c>genres_feat.npy</c>, <c>items.tsv</c>
/// (the exact texts embedded, in the <c>stair-kernels features</c> input format), <c>item_ids.tsv</c>
/// (itemID → movieId), <c>user_ids.tsv</c> (userID → userId), <c>genres.txt</c> (the genre of each column) and the
/// data set's README (its terms ask that the note travel with every copy).</para>
/// </remarks>
public static class MovieLensPreparation
{
    /// <summary>Changes whenever the rules above change, so old caches are not reused.</summary>
    public const string RulesVersion = "movielens-mmrec-1";

    /// <summary>The name of the prepared data set (its <c>.inter</c> file's stem).</summary>
    public const string Name = "movielens";

    private const string NoGenres = "(no genres listed)";
    private const string Missing = "NA";

    /// <summary>
    /// Returns the prepared MMRec directory for the MovieLens CSVs in <paramref name="dataDirectory"/>:
    /// <c>&lt;cacheDirectory&gt;/movielens-&lt;key&gt;</c>, where the key hashes the rules version, the text model and
    /// the bytes of ratings.csv and movies.csv. Prepares it first when it does not exist (writing to a temporary
    /// sibling and renaming it into place, so a half-written directory is never used).
    /// </summary>
    /// <param name="dataDirectory">Holds ratings.csv, movies.csv and README.md.</param>
    /// <param name="cacheDirectory">Where prepared data sets live.</param>
    /// <param name="log">Progress lines, or null.</param>
    /// <exception cref="InvalidDataException">A CSV is malformed; the message names the file and line.</exception>
    public static string Prepare(string dataDirectory, string cacheDirectory, TextWriter? log = null) =>
        Prepare(dataDirectory, cacheDirectory, log, texts => TextFeatures.Embed(texts, log), TextFeatures.Model);

    /// <summary><see cref="Prepare(string, string, TextWriter?)"/> with the text encoder replaced (tests).</summary>
    internal static string Prepare(string dataDirectory, string cacheDirectory, TextWriter? log,
        Func<IReadOnlyList<string>, float[]> embed, string model)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        string key = CacheKey(dataDirectory, model);
        string target = Path.Combine(cacheDirectory, $"{Name}-{key}");
        if (Directory.Exists(target))
        {
            log?.WriteLine($"MovieLens: using the prepared data in {target}");
            return target;
        }
        Directory.CreateDirectory(cacheDirectory);
        string temporary = Path.Combine(cacheDirectory, $"{Name}-{key}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temporary);
        try
        {
            log?.WriteLine($"MovieLens: preparing {dataDirectory} into {target} (once; later runs reuse it)");
            var started = System.Diagnostics.Stopwatch.StartNew();
            Write(Read(dataDirectory), temporary, embed, log);
            File.Copy(Path.Combine(dataDirectory, "README.md"), Path.Combine(temporary, "README.md"));
            try
            {
                Directory.Move(temporary, target);
            }
            catch (IOException) when (Directory.Exists(target))
            {
                // Another process prepared the same inputs meanwhile; its result is identical.
            }
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"MovieLens: prepared in {started.Elapsed.TotalSeconds:F1} s"));
        }
        finally
        {
            if (Directory.Exists(temporary))
            {
                Directory.Delete(temporary, recursive: true);
            }
        }
        return target;
    }

    /// <summary>16 hex digits of SHA-256 over the rules version, the model and the two CSVs' bytes.</summary>
    internal static string CacheKey(string dataDirectory, string model)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string part in new[] { RulesVersion, model })
        {
            AppendPart(hash, Encoding.UTF8.GetBytes(part));
        }
        foreach (string file in new[] { "ratings.csv", "movies.csv" })
        {
            AppendPart(hash, File.ReadAllBytes(Path.Combine(dataDirectory, file)));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    private static void AppendPart(IncrementalHash hash, byte[] bytes)
    {
        hash.AppendData(BitConverter.GetBytes((long)bytes.Length));
        hash.AppendData(bytes);
    }

    /// <summary>One movie of movies.csv.</summary>
    internal sealed record Movie(int MovieId, string Title, string Year, string[] Genres);

    /// <summary>One rating of ratings.csv, the rating kept as written.</summary>
    internal readonly record struct Rating(int UserId, int MovieId, string Value, long Timestamp);

    /// <summary>The parsed CSVs: movies by ascending movieId; ratings in file order.</summary>
    internal sealed record Source(Movie[] Movies, Rating[] Ratings);

    /// <summary>Reads and checks movies.csv and ratings.csv.</summary>
    internal static Source Read(string dataDirectory)
    {
        var movies = new List<Movie>();
        var movieIds = new HashSet<int>();
        ReadCsv(Path.Combine(dataDirectory, "movies.csv"), ["movieId", "title", "year", "genres"], (fields, file, line) =>
        {
            int id = ParseInt(fields[0], file, line, "movieId");
            if (!movieIds.Add(id))
            {
                throw new InvalidDataException($"{file}: line {line}: movieId {id} appears a second time.");
            }
            string[] genres = fields[3].Split('|', StringSplitOptions.RemoveEmptyEntries).Where(g => g != NoGenres).ToArray();
            movies.Add(new Movie(id, fields[1], fields[2], genres));
        });
        var ratings = new List<Rating>();
        var pairs = new HashSet<long>();
        ReadCsv(Path.Combine(dataDirectory, "ratings.csv"), ["userId", "movieId", "rating", "timestamp"], (fields, file, line) =>
        {
            int user = ParseInt(fields[0], file, line, "userId");
            int movie = ParseInt(fields[1], file, line, "movieId");
            if (!double.TryParse(fields[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
            {
                throw new InvalidDataException($"{file}: line {line}: rating '{fields[2]}' is not a number.");
            }
            if (!long.TryParse(fields[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out long time))
            {
                throw new InvalidDataException($"{file}: line {line}: timestamp '{fields[3]}' is not an integer.");
            }
            if (!movieIds.Contains(movie))
            {
                throw new InvalidDataException($"{file}: line {line}: movieId {movie} is not in movies.csv.");
            }
            if (!pairs.Add(((long)user << 32) | (uint)movie))
            {
                throw new InvalidDataException($"{file}: line {line}: user {user} rated movie {movie} a second time.");
            }
            ratings.Add(new Rating(user, movie, fields[2], time));
        });
        if (ratings.Count == 0)
        {
            throw new InvalidDataException("ratings.csv: no ratings after the header.");
        }
        movies.Sort((a, b) => a.MovieId.CompareTo(b.MovieId));
        return new Source(movies.ToArray(), ratings.ToArray());
    }

    /// <summary>The text embedded for a movie: "title (year) genre, genre, …" without missing parts.</summary>
    internal static string TextOf(Movie movie)
    {
        var parts = new List<string>(3);
        if (movie.Title != Missing && movie.Title.Length > 0)
        {
            parts.Add(movie.Title);
        }
        if (movie.Year != Missing && movie.Year.Length > 0)
        {
            parts.Add($"({movie.Year})");
        }
        if (movie.Genres.Length > 0)
        {
            parts.Add(string.Join(", ", movie.Genres));
        }
        return string.Join(' ', parts);
    }

    /// <summary>Writes the MMRec layout of <paramref name="source"/> into <paramref name="directory"/>.</summary>
    internal static void Write(Source source, string directory, Func<IReadOnlyList<string>, float[]> embed, TextWriter? log)
    {
        Movie[] movies = source.Movies;
        var itemOf = new Dictionary<int, int>(movies.Length);
        for (int k = 0; k < movies.Length; k++)
        {
            itemOf.Add(movies[k].MovieId, k);
        }
        int[] userIds = source.Ratings.Select(r => r.UserId).Distinct().Order().ToArray();
        var userOf = new Dictionary<int, int>(userIds.Length);
        for (int k = 0; k < userIds.Length; k++)
        {
            userOf.Add(userIds[k], k);
        }

        // Ratings by (user, timestamp, movie): users in id order, each user's history chronological.
        Rating[] ordered = source.Ratings
            .OrderBy(r => userOf[r.UserId]).ThenBy(r => r.Timestamp).ThenBy(r => itemOf[r.MovieId])
            .ToArray();
        int[] users = ordered.Select(r => userOf[r.UserId]).ToArray();
        InteractionSplit[] labels = InteractionSplits.SplitPerUser(userIds.Length, users);

        var inter = new StringBuilder("userID\titemID\trating\ttimestamp\tx_label\n");
        for (int k = 0; k < ordered.Length; k++)
        {
            inter.Append(CultureInfo.InvariantCulture, $"{users[k]}\t{itemOf[ordered[k].MovieId]}\t{ordered[k].Value}\t{ordered[k].Timestamp}\t{(int)labels[k]}\n");
        }
        WriteText(Path.Combine(directory, Name + ".inter"), inter.ToString());
        WriteText(Path.Combine(directory, "user_ids.tsv"),
            "userID\tuserId\n" + string.Concat(userIds.Select((id, k) => string.Create(CultureInfo.InvariantCulture, $"{k}\t{id}\n"))));
        WriteText(Path.Combine(directory, "item_ids.tsv"),
            "itemID\tmovieId\n" + string.Concat(movies.Select((m, k) => string.Create(CultureInfo.InvariantCulture, $"{k}\t{m.MovieId}\n"))));

        string[] genres = movies.SelectMany(m => m.Genres).Distinct().Order(StringComparer.Ordinal).ToArray();
        var genreColumn = genres.Select((g, c) => (g, c)).ToDictionary(p => p.g, p => p.c, StringComparer.Ordinal);
        var multiHot = new float[movies.Length * genres.Length];
        for (int k = 0; k < movies.Length; k++)
        {
            foreach (string g in movies[k].Genres)
            {
                multiHot[k * genres.Length + genreColumn[g]] = 1f;
            }
        }
        Npy.Write(Path.Combine(directory, "genres_feat.npy"), multiHot, movies.Length, genres.Length);
        WriteText(Path.Combine(directory, "genres.txt"), string.Concat(genres.Select(g => g + "\n")));

        string[] texts = movies.Select(TextOf).ToArray();
        TextFeatures.WriteItemTexts(Path.Combine(directory, "items.tsv"), texts);
        log?.WriteLine($"MovieLens: embedding {texts.Length:N0} item texts ({TextFeatures.Model})");
        float[] text = embed(texts);
        Npy.Write(Path.Combine(directory, "text_feat.npy"), text, movies.Length, text.Length / Math.Max(1, movies.Length));
    }

    private static void WriteText(string path, string text) =>
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));

    private static int ParseInt(string field, string file, int line, string what) =>
        int.TryParse(field, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InvalidDataException($"{file}: line {line}: {what} '{field}' is not an integer.");

    /// <summary>Reads a comma-separated file with "quoted" fields ("" inside quotes is one quote); checks the header.</summary>
    private static void ReadCsv(string path, string[] columns, Action<string[], string, int> row)
    {
        string file = Path.GetFileName(path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        string? header = reader.ReadLine();
        if (header is null)
        {
            throw new InvalidDataException($"{file}: the file is empty; line 1 must name the columns {string.Join(",", columns)}.");
        }
        string[] names = SplitCsvLine(header, file, 1);
        if (!names.SequenceEqual(columns))
        {
            throw new InvalidDataException($"{file}: line 1 names the columns {string.Join(",", names)}; expected {string.Join(",", columns)}.");
        }
        int line = 1;
        for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            if (text.Length == 0)
            {
                continue;
            }
            string[] fields = SplitCsvLine(text, file, line);
            if (fields.Length != columns.Length)
            {
                throw new InvalidDataException($"{file}: line {line} has {fields.Length} fields; expected {columns.Length} ({string.Join(",", columns)}).");
            }
            row(fields, file, line);
        }
    }

    private static string[] SplitCsvLine(string text, string file, int line)
    {
        var fields = new List<string>();
        var field = new StringBuilder();
        int k = 0;
        while (true)
        {
            field.Clear();
            if (k < text.Length && text[k] == '"')
            {
                k++;
                while (true)
                {
                    if (k >= text.Length)
                    {
                        throw new InvalidDataException($"{file}: line {line}: a quoted field is not closed.");
                    }
                    if (text[k] == '"')
                    {
                        if (k + 1 < text.Length && text[k + 1] == '"')
                        {
                            field.Append('"');
                            k += 2;
                            continue;
                        }
                        k++;
                        break;
                    }
                    field.Append(text[k++]);
                }
                if (k < text.Length && text[k] != ',')
                {
                    throw new InvalidDataException($"{file}: line {line}: text after a closing quote at column {k + 1}.");
                }
            }
            else
            {
                while (k < text.Length && text[k] != ',')
                {
                    field.Append(text[k++]);
                }
            }
            fields.Add(field.ToString());
            if (k >= text.Length)
            {
                return fields.ToArray();
            }
            k++; // the comma
        }
    }
}
