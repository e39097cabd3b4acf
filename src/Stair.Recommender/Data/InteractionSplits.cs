// The two pieces of interaction bookkeeping every data source shares: the per-user
// chronological 80/10/10 split and the binary users × items CSR matrix of one split.
using Stair.Kernels;
using Stair.Kernels.IO;

namespace Stair.Recommender.Data;

/// <summary>Per-user splits and binary interaction matrices.</summary>
internal static class InteractionSplits
{
    /// <summary>
    /// Validation (and test) interactions of a user with <paramref name="count"/> interactions:
    /// count/10 rounded half up, in integers ((count + 5) / 10) so no floating-point rounding can
    /// move a boundary. The rest (count − 2 × this) is training.
    /// </summary>
    public static int HeldOut(int count) => (count + 5) / 10;

    /// <summary>
    /// Labels interactions per user, in the order given (the caller sorts them chronologically):
    /// each user's first n − 2h are training, the next h validation, the last h test, with
    /// h = <see cref="HeldOut"/>(n).
    /// </summary>
    /// <param name="users">Number of users.</param>
    /// <param name="userIds">User of each interaction, in [0, users), in chronological order per user.</param>
    public static InteractionSplit[] SplitPerUser(int users, ReadOnlySpan<int> userIds)
    {
        var total = new int[users];
        foreach (int u in userIds)
        {
            total[u]++;
        }
        var seen = new int[users];
        var labels = new InteractionSplit[userIds.Length];
        for (int k = 0; k < userIds.Length; k++)
        {
            int u = userIds[k];
            int n = total[u];
            int h = HeldOut(n);
            int position = seen[u]++;
            labels[k] = position < n - 2 * h ? InteractionSplit.Train
                : position < n - h ? InteractionSplit.Validation
                : InteractionSplit.Test;
        }
        return labels;
    }

    /// <summary>
    /// The binary matrix (values 1) of the interactions whose label is <paramref name="split"/>:
    /// users × items CSR, each row's columns sorted ascending, duplicates collapsed.
    /// Ids must already be in range.
    /// </summary>
    public static CsrMatrix Binary(int users, int items, ReadOnlySpan<int> userIds, ReadOnlySpan<int> itemIds,
        ReadOnlySpan<InteractionSplit> labels, InteractionSplit split)
    {
        // Counting sort by user, then sort and deduplicate each row.
        var rowPointers = new int[users + 1];
        for (int k = 0; k < userIds.Length; k++)
        {
            if (labels[k] == split)
            {
                rowPointers[userIds[k] + 1]++;
            }
        }
        for (int u = 0; u < users; u++)
        {
            rowPointers[u + 1] += rowPointers[u];
        }
        var cursor = rowPointers.AsSpan(0, users).ToArray();
        var columns = new int[rowPointers[users]];
        for (int k = 0; k < userIds.Length; k++)
        {
            if (labels[k] == split)
            {
                columns[cursor[userIds[k]]++] = itemIds[k];
            }
        }

        var compactPointers = new int[users + 1];
        int write = 0;
        for (int u = 0; u < users; u++)
        {
            Span<int> row = columns.AsSpan(rowPointers[u], rowPointers[u + 1] - rowPointers[u]);
            row.Sort();
            for (int k = 0; k < row.Length; k++)
            {
                if (k == 0 || row[k] != row[k - 1])
                {
                    columns[write++] = row[k];
                }
            }
            compactPointers[u + 1] = write;
        }
        var values = new float[write];
        values.AsSpan().Fill(1f);
        return new CsrMatrix(users, items, compactPointers, columns.AsSpan(0, write), values);
    }

    /// <summary>The first (user, item) pair stored in both matrices, or null when they share none.</summary>
    public static (int User, int Item)? FirstShared(CsrMatrix a, CsrMatrix b)
    {
        for (int u = 0; u < a.Rows; u++)
        {
            ReadOnlySpan<int> x = a.ColumnIndices[a.RowPointers[u]..a.RowPointers[u + 1]];
            ReadOnlySpan<int> y = b.ColumnIndices[b.RowPointers[u]..b.RowPointers[u + 1]];
            int i = 0, j = 0;
            while (i < x.Length && j < y.Length)
            {
                if (x[i] == y[j])
                {
                    return (u, x[i]);
                }
                if (x[i] < y[j])
                {
                    i++;
                }
                else
                {
                    j++;
                }
            }
        }
        return null;
    }
}
