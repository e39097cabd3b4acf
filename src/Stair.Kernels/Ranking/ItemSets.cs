// Per-user sets of items as sorted, duplicate-free CSR rows: the training interactions the
// negative sampler avoids, and the excluded and relevant items of full-ranking evaluation.
namespace Stair.Kernels;

/// <summary>Sorted, duplicate-free item lists per user, built once from a users × items CSR matrix (values ignored).</summary>
internal sealed class ItemSets
{
    public ItemSets(CsrMatrix matrix, string paramName)
    {
        ArgumentNullException.ThrowIfNull(matrix, paramName);
        Users = matrix.Rows;
        Items = matrix.Columns;
        if (matrix.NonZeros > Array.MaxLength)
        {
            throw new NotSupportedException(
                $"{paramName} holds {matrix.NonZeros:N0} interactions; the sampler's and ranking's item sets hold at most {Array.MaxLength:N0} (split the users into batches).");
        }
        Pointers = new int[Users + 1];
        var items = new int[matrix.NonZeros];
        int n = 0;
        for (int u = 0; u < Users; u++)
        {
            int begin = n;
            ReadOnlySpan<int> source = matrix.RowColumns(u);
            source.CopyTo(items.AsSpan(n));
            Span<int> row = items.AsSpan(begin, source.Length);
            row.Sort();
            for (int k = 0; k < row.Length; k++)
            {
                if (k == 0 || row[k] != row[k - 1])
                {
                    items[n++] = row[k];
                }
            }
            Pointers[u + 1] = n;
        }
        Columns = n == items.Length ? items : items[..n];
    }

    public int Users { get; }

    public int Items { get; }

    public int[] Pointers { get; }

    public int[] Columns { get; }

    public int Count(int user) => Pointers[user + 1] - Pointers[user];

    public ReadOnlySpan<int> Row(int user) => Columns.AsSpan(Pointers[user], Pointers[user + 1] - Pointers[user]);
}
