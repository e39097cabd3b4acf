// `stair-kernels whiten` end to end: the same tables as the library, the user table, errors.
using Stair.Kernels.Cli;
using Stair.Kernels.IO;
using Stair.Kernels.Tests.Infrastructure;
using Stair.Kernels.Tests.Whitening;

namespace Stair.Kernels.Tests.Cli;

public sealed class WhitenCommandTests() : CliTestBase("stair-whiten-")
{
    [Theory]
    [InlineData("exact")]
    [InlineData("randomized")]
    public void Whiten_writes_the_library_tables(string method)
    {
        float[] text = WhiteningTests.Features(30, 12, 0.9, 1), image = WhiteningTests.Features(30, 40, 0.9, 2);
        Npy.Write(PathOf("text.npy"), text, 30, 12);
        Npy.Write(PathOf("image.npy"), image, 30, 40);
        File.WriteAllText(PathOf("toy.inter"), "userID\titemID\trating\ttimestamp\tx_label\n0\t0\t5\t1\t0\n0\t29\t4\t2\t0\n1\t1\t3\t3\t0\n1\t0\t1\t4\t2\n");

        var (code, stdout, stderr) = Run("whiten", "--features", PathOf("text.npy") + "," + PathOf("image.npy"), "--weights", "5,1", "--dim", "8",
            "--method", method, "--interactions", PathOf("toy.inter"), "--users-output", PathOf("U.npy"), "--output", PathOf("E.npy"));

        Assert.True(code == 0, stderr);
        Assert.Contains("text.npy: rank 8", stdout);
        WhiteningResult expected = Kernels.Whitening.Whiten([new WhiteningModality(text, 12, 5), new WhiteningModality(image, 40, 1)],
            new WhiteningOptions { Dimension = 8, Method = method == "exact" ? WhiteningMethod.Exact : WhiteningMethod.Randomized });
        Bits.AssertBitsEqual(expected.ItemTable, Npy.ReadMatrix(PathOf("E.npy"), out int rows, out int columns), "E.npy vs the library");
        Assert.Equal((30, 8), (rows, columns));
        float[] users = Npy.ReadMatrix(PathOf("U.npy"), out int userRows, out _);
        Assert.Equal(2, userRows);
        for (int j = 0; j < 8; j++)
        {
            Assert.Equal((expected.ItemTable[j] + expected.ItemTable[29 * 8 + j]) / 2, users[j], 1e-5f);
            Assert.Equal(expected.ItemTable[8 + j], users[8 + j], 1e-5f);   // user 1: item 1 only (item 0 is a test row, label 2)
        }
    }

    [Fact]
    public void Whiten_rejects_bad_input_with_one_line()
    {
        Npy.Write(PathOf("a.npy"), WhiteningTests.Features(10, 4, 0.9, 3), 10, 4);
        Npy.Write(PathOf("short.npy"), WhiteningTests.Features(9, 4, 0.9, 3), 9, 4);
        float[] nan = WhiteningTests.Features(10, 4, 0.9, 3);
        nan[6] = float.NaN;
        Npy.Write(PathOf("nan.npy"), nan, 10, 4);
        string[][] bad =
        [
            ["whiten", "--features", PathOf("a.npy"), "--weights", "1,2", "--output", PathOf("E.npy")],
            ["whiten", "--features", PathOf("a.npy") + "," + PathOf("short.npy"), "--weights", "1,2", "--output", PathOf("E.npy")],
            ["whiten", "--features", PathOf("a.npy"), "--weights", "0", "--output", PathOf("E.npy")],
            ["whiten", "--features", PathOf("a.npy"), "--weights", "1", "--dim", "0", "--output", PathOf("E.npy")],
            ["whiten", "--features", PathOf("a.npy"), "--weights", "1", "--method", "svd", "--output", PathOf("E.npy")],
            ["whiten", "--features", PathOf("nan.npy"), "--weights", "1", "--output", PathOf("E.npy")],
        ];
        foreach (string[] args in bad)
        {
            var (code, _, err) = Run(args);
            Assert.Equal(2, code);
            Assert.StartsWith("error: ", err);
        }
        Assert.Contains("row 1, column 2", Run(bad[^1]).Err);
        Assert.False(File.Exists(PathOf("E.npy")));
    }
}
