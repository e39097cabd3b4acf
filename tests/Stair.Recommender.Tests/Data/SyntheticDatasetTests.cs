// Synthetic Baby/Electronics-shaped data sets and the per-user 80/10/10 rule they share with MovieLens.
using Stair.Kernels;
using Stair.Kernels.IO;
using Stair.Recommender.Data;
using Stair.Kernels.Tests.Infrastructure;

namespace Stair.Recommender.Tests.Data;

public class SyntheticDatasetTests
{
    [Theory]
    [InlineData(1, 1, 0, 0)]
    [InlineData(4, 4, 0, 0)]
    [InlineData(5, 3, 1, 1)]   // 0.5 rounds up
    [InlineData(14, 12, 1, 1)] // 1.4 rounds down
    [InlineData(15, 11, 2, 2)] // 1.5 rounds up
    [InlineData(20, 16, 2, 2)]
    [InlineData(25, 19, 3, 3)]
    [InlineData(1000, 800, 100, 100)]
    public void SplitPerUser_TrainsOnTheEarliestAndTestsOnTheLatest(int n, int train, int validation, int test)
    {
        // Two users interleaved: user 1 has n interactions, user 0 has 3.
        var users = new List<int>();
        for (int k = 0; k < n; k++)
        {
            users.Add(1);
            if (k < 3)
            {
                users.Add(0);
            }
        }
        InteractionSplit[] labels = InteractionSplits.SplitPerUser(2, users.ToArray());
        InteractionSplit[] mine = users.Select((u, k) => (u, k)).Where(p => p.u == 1).Select(p => labels[p.k]).ToArray();
        InteractionSplit[] expected =
        [
            .. Enumerable.Repeat(InteractionSplit.Train, train),
            .. Enumerable.Repeat(InteractionSplit.Validation, validation),
            .. Enumerable.Repeat(InteractionSplit.Test, test),
        ];
        Assert.Equal(expected, mine);
        Assert.All(users.Select((u, k) => (u, k)).Where(p => p.u == 0), p => Assert.Equal(InteractionSplit.Train, labels[p.k]));
    }

    [Fact]
    public void Synthetic_Baby_HasTheShapeFeaturesAndDisjointSplits()
    {
        RecommendationDataset data = DatasetLoader.Synthetic("synthetic:baby", 7);

        Assert.Equal("synthetic:baby", data.Name);
        Assert.Equal(DatasetShape.Baby.Users, data.Users);
        Assert.Equal(DatasetShape.Baby.Items, data.Items);
        foreach (CsrMatrix m in new[] { data.Train, data.Validation, data.Test })
        {
            Assert.Equal(data.Users, m.Rows);
            Assert.Equal(data.Items, m.Columns);
            Assert.True(m.NonZeros > 0);
        }
        long total = data.Train.NonZeros + data.Validation.NonZeros + data.Test.NonZeros;
        Assert.Equal((int)Math.Round(DatasetShape.Baby.Interactions / 0.8), total);
        // Users with fewer than 5 interactions keep them all for training, so training is a bit above 80%.
        Assert.InRange(data.Train.NonZeros / (double)total, 0.8, 0.9);
        Assert.Equal(data.Validation.NonZeros, data.Test.NonZeros);
        Assert.Null(InteractionSplits.FirstShared(data.Train, data.Test));
        Assert.Null(InteractionSplits.FirstShared(data.Train, data.Validation));
        Assert.Null(InteractionSplits.FirstShared(data.Validation, data.Test));

        Assert.Equal(["image", "text"], data.Modalities.Select(m => m.Name));
        Assert.Equal([4096, 384], data.Modalities.Select(m => m.Columns));
        Assert.Equal([1, 5], data.Modalities.Select(m => m.DefaultK));
        Assert.All(data.Modalities, m => Assert.Equal(data.Items * m.Columns, m.Features.Length));
        foreach (ModalityFeatures m in data.Modalities)
        {
            Assert.InRange(m.Features.Min(), -1f, -0.99f);
            Assert.InRange(m.Features.Max(), 0.99f, 1f);
        }
    }

    [Fact]
    public void Synthetic_IsDeterministicPerSeed()
    {
        RecommendationDataset a = DatasetLoader.Synthetic(DatasetShape.Baby, 3, textColumns: 24, imageColumns: 40);
        RecommendationDataset b = DatasetLoader.Synthetic(DatasetShape.Baby, 3, textColumns: 24, imageColumns: 40);
        RecommendationDataset c = DatasetLoader.Synthetic(DatasetShape.Baby, 4, textColumns: 24, imageColumns: 40);

        Assert.True(a.Test.RowPointers.SequenceEqual(b.Test.RowPointers));
        Assert.True(a.Test.ColumnIndices.SequenceEqual(b.Test.ColumnIndices));
        Bits.AssertBitsEqual(a.Modalities[1].Features, b.Modalities[1].Features, "text features, same seed");
        Assert.False(a.Test.ColumnIndices.SequenceEqual(c.Test.ColumnIndices));
        Assert.NotEqual(a.Modalities[1].Features, c.Modalities[1].Features);
        Assert.NotEqual(a.Modalities[0].Features.AsSpan(0, 24).ToArray(), a.Modalities[1].Features.AsSpan(0, 24).ToArray());
    }

    [Fact]
    public void Synthetic_Electronics_HasTheShape()
    {
        RecommendationDataset data = DatasetLoader.Synthetic("synthetic:electronics", 1);

        Assert.Equal(192_403, data.Users);
        Assert.Equal(63_001, data.Items);
        Assert.Equal((int)Math.Round(DatasetShape.Electronics.Interactions / 0.8), data.Train.NonZeros + data.Validation.NonZeros + data.Test.NonZeros);
        Assert.Equal(63_001L * 4096, data.Modalities[0].Features.LongLength);
        Assert.Equal(63_001L * 384, data.Modalities[1].Features.LongLength);
    }

    [Theory]
    [InlineData("baby")]
    [InlineData("SYNTHETIC:BABY")]
    public void Synthetic_NameIsCaseInsensitiveAndThePrefixOptional(string name)
    {
        RecommendationDataset data = DatasetLoader.Synthetic(name, 3);
        Assert.Equal("synthetic:baby", data.Name);
    }

    [Fact]
    public void Synthetic_UnknownName_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetLoader.Synthetic("synthetic:clothing", 1));
        Assert.Equal("name", e.ParamName);
    }
}
