// DatasetLoader.Load on the MMRec layout: a good data set loads exactly; each kind of bad data
// set raises one InvalidDataException naming the file and the line, row or column.
using Stair.Kernels;
using Stair.Kernels.IO;
using Stair.Recommender.Tests.Infrastructure;

namespace Stair.Recommender.Tests.Data;

public class DatasetLoaderTests
{
    private const string Header = "userID\titemID\trating\ttimestamp\tx_label";

    // 3 users, 5 items (ids 0..3 used; item 4 only has features). User 0 has a duplicate
    // training row, and a blank line sits in the middle: both must be harmless.
    private static readonly string[] GoodRows =
    [
        "0\t2\t4.0\t100\t0",
        "0\t0\t3.5\t101\t0",
        "0\t2\t4.0\t102\t0",
        "0\t1\t5\t103\t1",
        "",
        "0\t3\t1\t104\t2",
        "1\t3\t2\t100\t0",
        "1\t0\t2\t101\t2",
        "2\t1\t2\t100\t0",
        "2\t2\t2\t100\t1",
    ];

    [Fact]
    public void Load_GoodDataSet_BuildsBinarySortedSplitsAndModalities()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, GoodRows);
        dir.WriteFeatures("text_feat.npy", 5, 3);
        dir.WriteFeatures("image_feat.npy", 5, 7);

        RecommendationDataset data = DatasetLoader.Load(dir.Path);

        Assert.Equal("toy", data.Name);
        Assert.Equal(3, data.Users);
        Assert.Equal(5, data.Items);
        AssertRows(data.Train, 5, [[0, 2], [3], [1]]);
        AssertRows(data.Validation, 5, [[1], [], [2]]);
        AssertRows(data.Test, 5, [[3], [0], []]);
        Assert.Equal(["image", "text"], data.Modalities.Select(m => m.Name));
        Assert.Equal([1, 5], data.Modalities.Select(m => m.DefaultK));
        ModalityFeatures text = data.Modalities[1];
        Assert.Equal(3, text.Columns);
        Assert.Equal(5, text.Rows);
        Assert.Equal(4 + 2 / 100f, text.Features[4 * 3 + 2]);
    }

    [Fact]
    public void Load_FindsTheOnlyInterFileWhenItIsNotNamedAfterTheDirectory()
    {
        using var dir = new TempDirectory("somewhere");
        dir.WriteInter("baby.inter", Header, GoodRows);
        dir.WriteFeatures("text_feat.npy", 5, 3);
        Assert.Equal("baby", DatasetLoader.Load(dir.Path).Name);
    }

    [Theory]
    [InlineData("x_label")]
    [InlineData("itemID")]
    [InlineData("userID")]
    public void Load_MissingColumn_NamesFileLineAndColumn(string column)
    {
        using var dir = new TempDirectory("toy");
        string[] columns = Header.Split('\t');
        int drop = Array.IndexOf(columns, column);
        string Without(string line) => string.Join('\t', line.Split('\t').Where((_, k) => k != drop));
        dir.WriteInter("toy.inter", Without(Header), GoodRows.Where(r => r.Length > 0).Select(Without).ToArray());
        dir.WriteFeatures("text_feat.npy", 5, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("toy.inter", e.Message);
        Assert.Contains("line 1", e.Message);
        Assert.Contains($"lacks the column {column}", e.Message);
    }

    [Fact]
    public void Load_ItemIdBeyondFeatureRows_NamesLineAndId()
    {
        using var dir = new TempDirectory("toy");
        string[] rows = [.. GoodRows, "2\t5\t1\t200\t0"]; // the 11th line after the header: line 12
        dir.WriteInter("toy.inter", Header, rows);
        dir.WriteFeatures("text_feat.npy", 5, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("toy.inter: line 12: item id 5 is out of range", e.Message);
        Assert.Contains("0 … 4", e.Message);
    }

    [Fact]
    public void Load_BadUserId_NamesLine()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, [.. GoodRows, "-3\t1\t1\t200\t0"]);
        dir.WriteFeatures("text_feat.npy", 5, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("toy.inter: line 12: user id '-3'", e.Message);
    }

    [Fact]
    public void Load_GapInUserIds_NamesTheMissingUser()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, [.. GoodRows.Select(r => r.StartsWith("2\t", StringComparison.Ordinal) ? "3" + r[1..] : r)]);
        dir.WriteFeatures("text_feat.npy", 5, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("toy.inter: user ids are not contiguous: user 2 has no interaction, yet the largest user id is 3", e.Message);
    }

    [Fact]
    public void Load_FeatureRowCountsDisagree_NamesBothFiles()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, GoodRows);
        dir.WriteFeatures("image_feat.npy", 5, 7);
        dir.WriteFeatures("text_feat.npy", 6, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("text_feat.npy: 6 rows, but image_feat.npy has 5", e.Message);
    }

    [Theory]
    [InlineData(0, "train")]
    [InlineData(1, "validation")]
    [InlineData(2, "test")]
    public void Load_EmptySplit_NamesTheSplit(int label, string split)
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, GoodRows.Where(r => r.Length == 0 || !r.EndsWith("\t" + label, StringComparison.Ordinal)).ToArray());
        dir.WriteFeatures("text_feat.npy", 5, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains($"toy.inter: no interaction has x_label {label} ({split})", e.Message);
    }

    [Fact]
    public void Load_PairInTwoSplits_NamesUserItemAndLines()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, [.. GoodRows, "1\t3\t2\t300\t1"]);
        dir.WriteFeatures("text_feat.npy", 5, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("user 1, item 3 is in both train and validation (lines 8, 12)", e.Message);
    }

    [Fact]
    public void Load_NonFiniteFeature_NamesRowAndColumn()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, GoodRows);
        var values = new float[5 * 3];
        values[3 * 3 + 1] = float.NaN;
        Npy.Write(dir.File("text_feat.npy"), values, 5, 3);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("text_feat.npy: row 3, column 1 is NaN", e.Message);
    }

    [Fact]
    public void Load_FeatureFileNot2D_NamesFile()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, GoodRows);
        Npy.Write(dir.File("text_feat.npy"), new float[5]);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.StartsWith("text_feat.npy:", e.Message);
        Assert.Contains("2-D", e.Message);
    }

    [Fact]
    public void Load_NoFeatureFile_SaysSo()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, GoodRows);

        var e = Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path));
        Assert.Contains("no <modality>_feat.npy", e.Message);
    }

    [Fact]
    public void Load_NoOrSeveralInterFiles_SaysSo()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteFeatures("text_feat.npy", 5, 3);
        Assert.Contains("no .inter file", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path)).Message);

        dir.WriteInter("a.inter", Header, GoodRows);
        dir.WriteInter("b.inter", Header, GoodRows);
        Assert.Contains("2 .inter files (a.inter, b.inter)", Assert.Throws<InvalidDataException>(() => DatasetLoader.Load(dir.Path)).Message);
    }

    [Fact]
    public void Open_DispatchesOnTheName()
    {
        using var dir = new TempDirectory("toy");
        dir.WriteInter("toy.inter", Header, GoodRows);
        dir.WriteFeatures("text_feat.npy", 5, 3);
        Assert.Equal("toy", DatasetLoader.Open(dir.Path).Name);
        Assert.Equal("synthetic:baby", DatasetLoader.Open("Synthetic:Baby", seed: 2).Name);
        Assert.Equal("name", Assert.Throws<ArgumentException>(() => DatasetLoader.Open("synthetic:books")).ParamName);
        Assert.Throws<DirectoryNotFoundException>(() => DatasetLoader.Open(dir.File("absent")));
    }

    [Fact]
    public void Load_MissingDirectory_Throws()
    {
        Assert.Throws<DirectoryNotFoundException>(() => DatasetLoader.Load(Path.Combine(Path.GetTempPath(), "stair-no-such-dir-" + Guid.NewGuid())));
    }

    internal static void AssertRows(CsrMatrix m, int columns, int[][] rows)
    {
        Assert.Equal(rows.Length, m.Rows);
        Assert.Equal(columns, m.Columns);
        for (int u = 0; u < rows.Length; u++)
        {
            Assert.Equal(rows[u], m.ColumnIndices[m.RowPointers[u]..m.RowPointers[u + 1]].ToArray());
            Assert.All(m.Values[m.RowPointers[u]..m.RowPointers[u + 1]].ToArray(), v => Assert.Equal(1f, v));
        }
    }
}
