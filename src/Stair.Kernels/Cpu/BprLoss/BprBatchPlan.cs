// The bookkeeping of one BPR batch, shared by the CPU driver and the ILGPU launcher: the
// batch's contributions grouped by the gradient row they land on, each group listing its
// contributions in batch order. That is a stable bucket sort by (row, position in batch), done
// in O(B) with a row → group map that is reset after use, so summing a group's list from the
// front gives the same bits however the groups are spread over threads: duplicate rows sum
// exactly and deterministically, with no atomics.
namespace Stair.Kernels.Cpu.BprLoss;

/// <summary>One batch grouped by gradient row; reused across batches (grows on demand, allocation-free after).</summary>
internal sealed class BprBatchPlan
{
    /// <summary>Contribution code of triple b: 3b (its user row), 3b + 1 (its positive item), 3b + 2 (its negative item).</summary>
    internal const int KindCount = 3;

    private int[] _groupOfKey = [];

    /// <summary>Triples in the batch.</summary>
    public int Count;

    /// <summary>Groups 0 … UserGroups − 1 are user rows, the rest item rows.</summary>
    public int UserGroups;

    /// <summary>All groups.</summary>
    public int Groups;

    /// <summary>Row (in the user or item table) of each group.</summary>
    public int[] GroupRows = [];

    /// <summary>Group g's contributions are Entries[GroupStart[g] .. GroupStart[g + 1]).</summary>
    public int[] GroupStart = [];

    /// <summary>Contribution codes (see <see cref="KindCount"/>), ascending within each group.</summary>
    public int[] Entries = [];

    /// <summary>Groups the batch's rows: users are keys [0, userRows), items [userRows, userRows + itemRows).</summary>
    public void Build(ReadOnlySpan<int> users, ReadOnlySpan<int> positives, ReadOnlySpan<int> negatives, int userRows, int itemRows)
    {
        int b = users.Length;
        Count = b;
        int keys = userRows + itemRows;
        if (_groupOfKey.Length < keys)
        {
            _groupOfKey = new int[keys];
            _groupOfKey.AsSpan().Fill(-1);
        }
        if (GroupRows.Length < KindCount * b)
        {
            GroupRows = new int[KindCount * b];
            GroupStart = new int[KindCount * b + 1];
            Entries = new int[KindCount * b];
        }
        int[] groupOfKey = _groupOfKey, rows = GroupRows, start = GroupStart;
        int groups = 0;
        // Pass 1: a group per distinct row, in order of first appearance; count its contributions
        // (GroupStart[g + 1] holds the count until the prefix sum).
        for (int t = 0; t < b; t++)
        {
            Count1(users[t], users[t]);
        }
        UserGroups = groups;
        for (int t = 0; t < b; t++)
        {
            Count1(userRows + positives[t], positives[t]);
            Count1(userRows + negatives[t], negatives[t]);
        }
        Groups = groups;
        start[0] = 0;
        for (int g = 0; g < groups; g++)
        {
            start[g + 1] += start[g];
        }
        // Pass 2: scatter the codes in batch order, so each group's list ascends. The cursor of
        // group g is start[g] advanced in place, then restored from its successor's start.
        for (int t = 0; t < b; t++)
        {
            Entries[start[groupOfKey[users[t]]]++] = KindCount * t;
        }
        for (int t = 0; t < b; t++)
        {
            Entries[start[groupOfKey[userRows + positives[t]]]++] = KindCount * t + 1;
            Entries[start[groupOfKey[userRows + negatives[t]]]++] = KindCount * t + 2;
        }
        for (int g = groups; g > 0; g--)
        {
            start[g] = start[g - 1];
        }
        start[0] = 0;
        // Reset the map for the next batch: only the keys this batch touched.
        for (int t = 0; t < b; t++)
        {
            groupOfKey[users[t]] = -1;
            groupOfKey[userRows + positives[t]] = -1;
            groupOfKey[userRows + negatives[t]] = -1;
        }

        void Count1(int key, int row)
        {
            int g = groupOfKey[key];
            if (g < 0)
            {
                g = groups++;
                groupOfKey[key] = g;
                rows[g] = row;
                start[g + 1] = 0;
            }
            start[g + 1]++;
        }
    }
}
