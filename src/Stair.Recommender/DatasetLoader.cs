// Loads recommendation data sets: the MMRec directory layout (a .inter TSV plus one
// <modality>_feat.npy per modality) with one clear error per problem, and seeded synthetic
// data shaped like Amazon Baby / Electronics for timing runs.
using System.Globalization;
using Stair.Kernels;
using Stair.Kernels.IO;
using Stair.Recommender.Data;

namespace Stair.Recommender;

/// <summary>Builds <see cref="RecommendationDataset"/>s from files, from the embedded MovieLens, or synthetically.</summary>
public static partial class DatasetLoader
{
    /// <summary>Columns an MMRec <c>.inter</c> header must name (others, such as rating and timestamp, are read past).</summary>
    public static IReadOnlyList<string> RequiredColumns { get; } = ["userID", "itemID", "x_label"];

    /// <summary>The kNN degree (and fusion weight) of a modality loaded from a file: 5 for "text", 1 for any other (STAIR's visual k).</summary>
    public static int DefaultKFor(string modality) => modality == "text" ? 5 : 1;

    /// <summary>
    /// One string names any data set (what a <c>--dataset</c> option takes): "movielens" (the embedded MovieLens,
    /// <see cref="MovieLens"/>), "synthetic:baby" or "synthetic:electronics" (<see cref="Synthetic(string, ulong)"/>
    /// with <paramref name="seed"/>), or else a directory in the MMRec layout (<see cref="Load"/>).
    /// </summary>
    /// <param name="source">The data set's name or directory.</param>
    /// <param name="seed">Seed of a synthetic data set (ignored otherwise).</param>
    /// <param name="log">Progress lines of a MovieLens preparation, or null.</param>
    public static RecommendationDataset Open(string source, ulong seed = 1, TextWriter? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        if (source.Equals("movielens", StringComparison.OrdinalIgnoreCase))
        {
            return MovieLens(log: log);
        }
        if (source.StartsWith("synthetic:", StringComparison.OrdinalIgnoreCase))
        {
            return Synthetic(source, seed);
        }
        return Load(source);
    }

    /// <summary>
    /// Loads a data set in the MMRec layout: <c>DIR/&lt;name&gt;.inter</c> (tab-separated, header naming
    /// userID, itemID and x_label, usually also rating and timestamp; x_label 0/1/2 = train/validation/test)
    /// plus <c>DIR/&lt;modality&gt;_feat.npy</c> per modality (2-D, rows in item order, all with the same row count).
    /// </summary>
    /// <remarks>
    /// The <c>.inter</c> file is <c>DIR/&lt;directory name&gt;.inter</c> when it exists, otherwise the only
    /// <c>*.inter</c> file in the directory. Items = the feature files' row count; users = largest user id + 1.
    /// Every user id 0 … U − 1 must occur. Modalities are ordered by name (ordinal); their <see cref="ModalityFeatures.DefaultK"/> comes from
    /// <see cref="DefaultKFor"/>. Duplicate (user, item) rows within a split collapse to one interaction.
    /// </remarks>
    /// <param name="directory">The data set's directory.</param>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist.</exception>
    /// <exception cref="InvalidDataException">The data set is malformed: no or several <c>.inter</c> files, a missing
    /// column, a bad value, a gap in the user ids, no feature file, a feature file that is not a finite 2-D float matrix, feature files
    /// whose row counts disagree, an item id outside the feature rows, an empty split, or a (user, item) pair in two
    /// splits. The message names the file and the line, row or column.</exception>
    public static RecommendationDataset Load(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Data set directory '{directory}' does not exist.");
        }
        string interPath = FindInterFile(directory);
        string interName = Path.GetFileName(interPath);
        CheckHeader(interPath);
        InteractionTable table = InteractionTable.Read(interPath);

        IReadOnlyList<ModalityFeatures> modalities = ReadModalities(directory, out string firstFeatureFile);
        int items = modalities[0].Rows;

        ReadOnlySpan<int> itemIds = table.ItemIds;
        for (int k = 0; k < itemIds.Length; k++)
        {
            if (itemIds[k] >= items)
            {
                throw new InvalidDataException(
                    $"{interName}: line {LineOfRow(interPath, k)}: item id {itemIds[k]} is out of range; the feature files " +
                    $"({firstFeatureFile}, …) have {items} rows, so item ids must lie in 0 … {items - 1}.");
            }
        }

        int users = table.UserCount;
        CheckUsersContiguous(table, interName);
        var splits = new CsrMatrix[3];
        for (int s = 0; s < 3; s++)
        {
            var split = (InteractionSplit)s;
            splits[s] = InteractionSplits.Binary(users, items, table.UserIds, table.ItemIds, table.Splits, split);
            if (splits[s].NonZeros == 0)
            {
                throw new InvalidDataException(
                    $"{interName}: no interaction has x_label {s} ({SplitName(split)}); every split needs at least one.");
            }
        }
        for (int a = 0; a < 3; a++)
        {
            for (int b = a + 1; b < 3; b++)
            {
                if (InteractionSplits.FirstShared(splits[a], splits[b]) is (int user, int item))
                {
                    throw new InvalidDataException(
                        $"{interName}: user {user}, item {item} is in both {SplitName((InteractionSplit)a)} and " +
                        $"{SplitName((InteractionSplit)b)} (lines {string.Join(", ", LinesOfPair(table, interPath, user, item))}); " +
                        "a held-out interaction must not also be a training or other held-out one.");
                }
            }
        }

        return new RecommendationDataset
        {
            Name = Path.GetFileNameWithoutExtension(interPath),
            Users = users,
            Items = items,
            Train = splits[0],
            Validation = splits[1],
            Test = splits[2],
            Modalities = modalities,
        };
    }

    /// <summary>
    /// A seeded synthetic data set shaped like Amazon Baby or Electronics, for timing: power-law interactions
    /// (<see cref="SyntheticGraphs.PowerLawInteractions"/>) of <see cref="DatasetShape"/>'s size, with
    /// Interactions / 0.8 pairs drawn so that about the shape's count is training; split per user in draw order
    /// (draw order stands in for time) by the same 80/10/10 rule as MovieLens; random features uniform in
    /// [−1, 1): "image" 4,096-d (k = 1) and "text" 384-d (k = 5).
    /// </summary>
    /// <param name="name">"synthetic:baby" or "synthetic:electronics" (the prefix may be omitted; case-insensitive).</param>
    /// <param name="seed">Random seed; the same name and seed always give the same data set.</param>
    /// <exception cref="ArgumentException">The name is not one of the synthetic shapes.</exception>
    public static RecommendationDataset Synthetic(string name, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = name.StartsWith("synthetic:", StringComparison.OrdinalIgnoreCase) ? name["synthetic:".Length..] : name;
        DatasetShape shape = key.ToLowerInvariant() switch
        {
            "baby" => DatasetShape.Baby,
            "electronics" => DatasetShape.Electronics,
            _ => throw new ArgumentException($"Unknown synthetic data set '{name}'; use synthetic:baby or synthetic:electronics.", nameof(name)),
        };
        return Synthetic(shape, seed);
    }

    /// <summary>A seeded synthetic data set of any shape; see <see cref="Synthetic(string, ulong)"/>.</summary>
    /// <param name="shape">Users, items and the approximate number of training interactions.</param>
    /// <param name="seed">Random seed.</param>
    /// <param name="textColumns">Width of the random "text" features (384 by default).</param>
    /// <param name="imageColumns">Width of the random "image" features (4,096 by default).</param>
    public static RecommendationDataset Synthetic(DatasetShape shape, ulong seed, int textColumns = 384, int imageColumns = 4096)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfLessThan(textColumns, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(imageColumns, 1);
        int total = (int)Math.Round(shape.Interactions / 0.8);
        (int[] u, int[] i) = SyntheticGraphs.PowerLawInteractions(shape.Users, shape.Items, total, seed);
        InteractionSplit[] labels = InteractionSplits.SplitPerUser(shape.Users, u);
        var splits = new CsrMatrix[3];
        for (int s = 0; s < 3; s++)
        {
            splits[s] = InteractionSplits.Binary(shape.Users, shape.Items, u, i, labels, (InteractionSplit)s);
        }
        // Distinct streams per table: the seed mixed with the modality's name as ASCII.
        float[] image = SyntheticGraphs.UniformTable(checked(shape.Items * imageColumns), seed ^ 0x696D616765000000UL);
        float[] text = SyntheticGraphs.UniformTable(checked(shape.Items * textColumns), seed ^ 0x7465787400000000UL);
        return new RecommendationDataset
        {
            Name = "synthetic:" + shape.Name,
            Users = shape.Users,
            Items = shape.Items,
            Train = splits[0],
            Validation = splits[1],
            Test = splits[2],
            Modalities =
            [
                new ModalityFeatures("image", image, imageColumns, DefaultKFor("image")),
                new ModalityFeatures("text", text, textColumns, DefaultKFor("text")),
            ],
        };
    }

    private static string SplitName(InteractionSplit split) => split switch
    {
        InteractionSplit.Train => "train",
        InteractionSplit.Validation => "validation",
        _ => "test",
    };

    private static string FindInterFile(string directory)
    {
        string own = Path.Combine(directory, Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))) + ".inter");
        if (File.Exists(own))
        {
            return own;
        }
        string[] candidates = Directory.GetFiles(directory, "*.inter");
        Array.Sort(candidates, StringComparer.Ordinal);
        return candidates.Length switch
        {
            1 => candidates[0],
            0 => throw new InvalidDataException($"'{directory}' holds no .inter file; the MMRec layout needs <name>.inter (userID, itemID, rating, timestamp, x_label)."),
            _ => throw new InvalidDataException($"'{directory}' holds {candidates.Length} .inter files ({string.Join(", ", candidates.Select(Path.GetFileName))}); keep one, or name it after the directory."),
        };
    }

    private static void CheckHeader(string interPath)
    {
        string? first;
        using (var reader = new StreamReader(interPath))
        {
            first = reader.ReadLine();
        }
        string name = Path.GetFileName(interPath);
        if (first is null)
        {
            throw new InvalidDataException($"{name}: the file is empty; line 1 must be the header userID\titemID\trating\ttimestamp\tx_label.");
        }
        string[] header = first.Split('\t').Select(h => h.Trim()).ToArray();
        string[] missing = RequiredColumns.Where(c => !header.Contains(c)).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidDataException(
                $"{name}: line 1 (the tab-separated header) lacks the column{(missing.Length > 1 ? "s" : "")} {string.Join(", ", missing)}; " +
                $"found: {string.Join(", ", header)}. An MMRec .inter header names userID, itemID, rating, timestamp, x_label.");
        }
    }

    /// <summary>User ids must be 0 … U − 1 with every one present: a gap (or one huge id) is an error, not U empty rows.</summary>
    private static void CheckUsersContiguous(InteractionTable table, string interName)
    {
        int[] distinct = table.UserIds.ToArray().Distinct().Order().ToArray();
        if (distinct.Length == table.UserCount)
        {
            return;
        }
        int missing = 0;
        while (missing < distinct.Length && distinct[missing] == missing)
        {
            missing++;
        }
        throw new InvalidDataException(
            $"{interName}: user ids are not contiguous: user {missing} has no interaction, yet the largest user id is {table.UserCount - 1}; " +
            "ids must run 0 … U − 1 (renumber the users).");
    }

    private static IReadOnlyList<ModalityFeatures> ReadModalities(string directory, out string firstFile)
    {
        string[] files = Directory.GetFiles(directory, "*_feat.npy");
        Array.Sort(files, StringComparer.Ordinal);
        if (files.Length == 0)
        {
            throw new InvalidDataException($"'{directory}' holds no <modality>_feat.npy feature file; at least one modality is needed (for example text_feat.npy).");
        }
        var modalities = new List<ModalityFeatures>(files.Length);
        firstFile = Path.GetFileName(files[0]);
        foreach (string path in files)
        {
            string file = Path.GetFileName(path);
            string modality = file[..^"_feat.npy".Length];
            if (modality.Length == 0)
            {
                throw new InvalidDataException($"{file}: a feature file needs a modality name before _feat.npy (for example text_feat.npy).");
            }
            float[] values;
            int rows, columns;
            try
            {
                values = Npy.ReadMatrix(path, out rows, out columns);
            }
            catch (NpyFormatException e)
            {
                throw new InvalidDataException($"{file}: {e.Message}", e);
            }
            if (columns == 0 || rows == 0)
            {
                throw new InvalidDataException($"{file}: the feature matrix is {rows} × {columns}; it needs at least one row and one column.");
            }
            if (modalities.Count > 0 && rows != modalities[0].Rows)
            {
                throw new InvalidDataException(
                    $"{file}: {rows} rows, but {firstFile} has {modalities[0].Rows}; every feature file needs one row per item, in item order.");
            }
            for (int k = 0; k < values.Length; k++)
            {
                if (!float.IsFinite(values[k]))
                {
                    throw new InvalidDataException($"{file}: row {k / columns}, column {k % columns} is {values[k].ToString(CultureInfo.InvariantCulture)}; features must be finite.");
                }
            }
            modalities.Add(new ModalityFeatures(modality, values, columns, DefaultKFor(modality)));
        }
        return modalities;
    }

    /// <summary>The 1-based line of the <paramref name="row"/>-th interaction (InteractionTable skips blank lines).</summary>
    private static int LineOfRow(string interPath, int row)
    {
        int line = 1, seen = -1;
        using var reader = new StreamReader(interPath);
        reader.ReadLine();
        for (string? text = reader.ReadLine(); text is not null; text = reader.ReadLine())
        {
            line++;
            if (text.Length > 0 && ++seen == row)
            {
                return line;
            }
        }
        return line;
    }

    private static IEnumerable<int> LinesOfPair(InteractionTable table, string interPath, int user, int item)
    {
        var lines = new List<int>();
        for (int k = 0; k < table.Count && lines.Count < 4; k++)
        {
            if (table.UserIds[k] == user && table.ItemIds[k] == item)
            {
                lines.Add(LineOfRow(interPath, k));
            }
        }
        return lines;
    }
}
