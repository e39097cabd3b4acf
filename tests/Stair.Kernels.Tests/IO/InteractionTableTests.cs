// InteractionTable.Read: what it accepts (MMRec .inter TSV with any line ends, blank lines, extra
// or very long columns, a BOM; a two-column CSV with or without a header) and every input it
// rejects, each with its InvalidDataException message naming the file and the line.
using System.Text;
using Stair.Kernels.IO;

namespace Stair.Kernels.Tests.IO;

public sealed class InteractionTableTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private InteractionTable ReadText(string text, string name = "t.inter") => IoTestSupport.ReadInteractions(_temp, text, name);

    [Theory]
    [InlineData("userID\titemID\trating\ttimestamp\tx_label\n0\t1\t5\t1\t0\n2\t3\t4\t2\t2\n")]
    [InlineData("userID\titemID\tx_label\r\n0\t1\t0\r\n\r\n2\t3\t2\r\n")]
    [InlineData("userID\titemID\tx_label\r0\t1\t0\r2\t3\t2")]
    [InlineData("\uFEFFuserID\titemID\tx_label\n\n0\t1\t0\n\n\n 2 \t+3\t2")]
    [InlineData("x_label\titemID\tnote\tuserID\n0\t1\t\"a, b\"\t0\n2\t3\t\t2\n")]
    public void Reads_mmrec_inter_files(string text)
    {
        InteractionTable table = ReadText(text);

        Assert.Equal([0, 2], table.UserIds.ToArray());
        Assert.Equal([1, 3], table.ItemIds.ToArray());
        Assert.Equal([InteractionSplit.Train, InteractionSplit.Test], table.Splits.ToArray());
        Assert.Equal((3, 4), (table.UserCount, table.ItemCount));
        (int[] testUsers, int[] testItems) = table.Select(InteractionSplit.Test);
        Assert.Equal([2], testUsers);
        Assert.Equal([3], testItems);
    }

    [Theory]
    [InlineData("0,1\n2,3\n")]
    [InlineData("user,item\n0,1\n2,3\n")]
    [InlineData("itemID,userID\n1,0\n3,2\n")]
    public void Reads_two_column_csv_files_as_training(string text)
    {
        InteractionTable table = ReadText(text, "pairs.csv");

        Assert.Equal([0, 2], table.UserIds.ToArray());
        Assert.Equal([1, 3], table.ItemIds.ToArray());
        Assert.All(table.Splits.ToArray(), s => Assert.Equal(InteractionSplit.Train, s));
    }

    [Fact]
    public void A_file_whose_first_mebibyte_predicts_too_few_lines_is_still_read_whole()
    {
        // The reader sizes its arrays from the newlines in the first MiB: 1,000 lines with a 1,100-character
        // column fill it, then 300,000 short lines follow, so the estimate is far short and the arrays grow
        // several times; the split labels cycle so a misplaced row shows.
        var text = new StringBuilder("userID\titemID\tnote\tx_label\n");
        string wide = new('w', 1_100);
        const int Wide = 1_000, Short = 300_000;
        for (int k = 0; k < Wide + Short; k++)
        {
            text.Append(k).Append('\t').Append(k % 977).Append('\t').Append(k < Wide ? wide : "s").Append('\t').Append(k % 3).Append('\n');
        }
        InteractionTable table = ReadText(text.ToString());
        Assert.Equal(Wide + Short, table.Count);
        Assert.Equal((Wide + Short, 977), (table.UserCount, table.ItemCount));
        for (int k = 0; k < table.Count; k += 997)
        {
            Assert.Equal(k, table.UserIds[k]);
            Assert.Equal(k % 977, table.ItemIds[k]);
            Assert.Equal((InteractionSplit)(k % 3), table.Splits[k]);
        }
        Assert.Equal(Wide + Short - 1, table.UserIds[^1]);
        Assert.Equal((Wide + Short + 2) / 3, table.Select(InteractionSplit.Train).UserIds.Length);
    }

    [Fact]
    public void Reads_a_header_alone_as_no_interactions_and_very_long_lines_whole()
    {
        InteractionTable empty = ReadText("userID\titemID\tx_label\n");
        Assert.Equal((0, 0, 0), (empty.Count, empty.UserCount, empty.ItemCount));

        InteractionTable wide = ReadText($"userID\titemID\treview\n0\t1\t{new string('x', 1_000_000)}\n3\t4\tshort\n");
        Assert.Equal([0, 3], wide.UserIds.ToArray());
        Assert.Equal([1, 4], wide.ItemIds.ToArray());
    }

    [Theory]
    [InlineData("", "t.inter: the file is empty.")]
    [InlineData("\uFEFF", "t.inter: the file is empty.")]
    [InlineData("userID\titem\tx_label\n0\t1\t0\n", "t.inter: line 1 must be a header naming the columns userID and itemID (found: userID, item, x_label).")]
    [InlineData("userID\titemID\tx_label\n0\t1\t0\n0\t1\n", "t.inter: line 3 has 2 field(s), expected at least 3.")]
    [InlineData("userID\titemID\n\n  \n", "t.inter: line 3 has 1 field(s), expected at least 2.")]
    [InlineData("userID\titemID\n0\tseven\n", "t.inter: line 2: item id 'seven' is not a non-negative integer.")]
    [InlineData("userID\titemID\n0\t1.0\n", "t.inter: line 2: item id '1.0' is not a non-negative integer.")]
    [InlineData("userID\titemID\n\r\n-3\t1\n", "t.inter: line 3: user id '-3' is not a non-negative integer.")]
    [InlineData("userID\titemID\n0\t2147483648\n", "t.inter: line 2: item id '2147483648' is not a non-negative integer.")]
    [InlineData("userID\titemID\n\"0\"\t1\n", "t.inter: line 2: user id '\"0\"' is not a non-negative integer.")]
    [InlineData("userID\titemID\tx_label\n0\t1\t3\n", "t.inter: line 2: x_label is 3; it must be 0 (train), 1 (validation) or 2 (test).")]
    [InlineData("userID\titemID\tx_label\n0\t1\t-1\n", "t.inter: line 2: x_label '-1' is not a non-negative integer.")]
    [InlineData("userID\titemID\tx_label\n0\t1\t\n", "t.inter: line 2: x_label '' is not a non-negative integer.")]
    [InlineData("item,userID\n1,0\n", "t.inter: line 1 must be a header naming the columns userID and itemID (found: item, userID).")]
    [InlineData("0\n1\n", "t.inter: line 1 has 1 field(s); a CSV needs two columns, user,item.")]
    [InlineData("0;1\n2;3\n", "t.inter: line 1 has 1 field(s); a CSV needs two columns, user,item.")]
    [InlineData("0,1\n2\n", "t.inter: line 2 has 1 field(s), expected at least 2.")]
    public void Rejects_malformed_files_naming_the_file_and_line(string text, string message)
    {
        var e = Assert.Throws<InvalidDataException>(() => ReadText(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Rejects_a_null_path_and_reports_a_missing_file()
    {
        Assert.Throws<ArgumentNullException>(() => InteractionTable.Read(null!));
        Assert.Throws<FileNotFoundException>(() => InteractionTable.Read(_temp.File("absent.inter")));
    }
}
