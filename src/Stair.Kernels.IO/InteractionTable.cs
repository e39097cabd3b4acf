// Reads user–item interactions from the files users already have: an MMRec `.inter` TSV
// (header naming userID, itemID, …, x_label) or a plain two-column CSV of user,item.
using System.Globalization;
using nietras.SeparatedValues;

namespace Stair.Kernels.IO;

/// <summary>Which part of the data an interaction belongs to (MMRec's <c>x_label</c>).</summary>
public enum InteractionSplit
{
    /// <summary>Training (x_label 0).</summary>
    Train = 0,

    /// <summary>Validation (x_label 1).</summary>
    Validation = 1,

    /// <summary>Test (x_label 2).</summary>
    Test = 2,
}

/// <summary>User–item interactions with contiguous integer ids and their split labels.</summary>
public sealed class InteractionTable
{
    // The arrays may be longer than Count (the reader sizes them from an estimate and does not copy them
    // to trim): only [0, Count) is the table.
    private readonly int[] _users;
    private readonly int[] _items;
    private readonly InteractionSplit[] _splits;
    private readonly int _count;

    private InteractionTable(int[] users, int[] items, InteractionSplit[] splits, int count, int userCount, int itemCount)
    {
        _users = users;
        _items = items;
        _splits = splits;
        _count = count;
        UserCount = userCount;
        ItemCount = itemCount;
    }

    /// <summary>Number of users: one more than the largest user id.</summary>
    public int UserCount { get; }

    /// <summary>Number of items: one more than the largest item id.</summary>
    public int ItemCount { get; }

    /// <summary>Number of interactions (all splits).</summary>
    public int Count => _count;

    /// <summary>User id of each interaction.</summary>
    public ReadOnlySpan<int> UserIds => _users.AsSpan(0, _count);

    /// <summary>Item id of each interaction.</summary>
    public ReadOnlySpan<int> ItemIds => _items.AsSpan(0, _count);

    /// <summary>Split of each interaction.</summary>
    public ReadOnlySpan<InteractionSplit> Splits => _splits.AsSpan(0, _count);

    /// <summary>The interactions of one split, as parallel user and item id arrays.</summary>
    public (int[] UserIds, int[] ItemIds) Select(InteractionSplit split)
    {
        var u = new List<int>();
        var i = new List<int>();
        for (int k = 0; k < _count; k++)
        {
            if (_splits[k] == split)
            {
                u.Add(_users[k]);
                i.Add(_items[k]);
            }
        }
        return (u.ToArray(), i.ToArray());
    }

    /// <summary>
    /// Reads an MMRec <c>.inter</c> file (tab-separated, with a header naming at least
    /// <c>userID</c> and <c>itemID</c>; <c>x_label</c> 0/1/2 gives the split, and without it every
    /// row is training) or a two-column CSV <c>user,item</c> (an optional header line is skipped;
    /// every row is training). Ids must be non-negative integers. Fields are split on the separator
    /// alone (quotes are ordinary characters); blank lines are skipped; extra columns are ignored.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the line.</exception>
    public static InteractionTable Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string name = Path.GetFileName(path);
        string? first;
        using (var peek = new StreamReader(path))
        {
            first = peek.ReadLine();
        }
        if (first is null)
        {
            throw new InvalidDataException($"{name}: the file is empty.");
        }
        char separator = first.Contains('\t') ? '\t' : ',';
        string[] header = first.Split(separator);
        int userColumn, itemColumn, labelColumn = -1;
        // A CSV's first line is data when its user and item fields are integers; extra columns are ignored, so
        // they do not decide (a first row "0,1,4.5" is an interaction, not a header).
        bool hasHeader = !header.Take(2).All(f => int.TryParse(f.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _));
        if (separator == '\t' || header.Any(h => h.Trim() == "userID"))
        {
            userColumn = Array.FindIndex(header, h => h.Trim() == "userID");
            itemColumn = Array.FindIndex(header, h => h.Trim() == "itemID");
            labelColumn = Array.FindIndex(header, h => h.Trim() == "x_label");
            if (userColumn < 0 || itemColumn < 0)
            {
                throw new InvalidDataException($"{name}: line 1 must be a header naming the columns userID and itemID (found: {string.Join(", ", header)}).");
            }
            hasHeader = true;
        }
        else
        {
            userColumn = 0;
            itemColumn = 1;
            if (header.Length < 2)
            {
                throw new InvalidDataException($"{name}: line 1 has {header.Length} field(s); a CSV needs two columns, user,item.");
            }
        }

        // Arrays sized from the line count the file's first MiB predicts (5 % over), grown by a quarter if
        // that was short, never copied to trim: 100 M lines peak at about 1.1× their arrays instead of the
        // 1.7× of growing lists and a final copy (kernels.md, "Building big graphs").
        int capacity = EstimateLines(path);
        var users = GC.AllocateUninitializedArray<int>(capacity);
        var items = GC.AllocateUninitializedArray<int>(capacity);
        var splits = GC.AllocateUninitializedArray<InteractionSplit>(capacity);
        int count = 0, maxUser = -1, maxItem = -1;
        int needed = Math.Max(userColumn, Math.Max(itemColumn, labelColumn)) + 1;
        // Sep splits the rows; the header was read above, so every row comes as data, and the
        // column counts are checked here (blank lines are skipped and extra columns are allowed).
        using SepReader reader = Sep.New(separator).Reader(o => o with
        {
            HasHeader = false,
            DisableColCountCheck = true,
            DisableQuotesParsing = true,
        }).FromFile(path);
        foreach (SepReader.Row row in reader)
        {
            if ((hasHeader && row.RowIndex == 0) || row.Span.Length == 0)
            {
                continue;
            }
            int lineNumber = row.LineNumberFrom;
            if (row.ColCount < needed)
            {
                throw new InvalidDataException($"{name}: line {lineNumber} has {row.ColCount} field(s), expected at least {needed}.");
            }
            if (count == users.Length)
            {
                int grown = (int)Math.Min(Array.MaxLength, users.Length + Math.Max(1024L, users.Length / 4L));
                if (grown == users.Length)
                {
                    throw new InvalidDataException($"{name}: line {lineNumber}: more than {Array.MaxLength:N0} interactions.");
                }
                Array.Resize(ref users, grown);
                Array.Resize(ref items, grown);
                Array.Resize(ref splits, grown);
            }
            int user = ParseId(row[userColumn].Span, name, lineNumber, "user id");
            int item = ParseId(row[itemColumn].Span, name, lineNumber, "item id");
            users[count] = user;
            items[count] = item;
            maxUser = Math.Max(maxUser, user);
            maxItem = Math.Max(maxItem, item);
            InteractionSplit split = InteractionSplit.Train;
            if (labelColumn >= 0)
            {
                int label = ParseId(row[labelColumn].Span, name, lineNumber, "x_label");
                if (label > 2)
                {
                    throw new InvalidDataException($"{name}: line {lineNumber}: x_label is {label}; it must be 0 (train), 1 (validation) or 2 (test).");
                }
                split = (InteractionSplit)label;
            }
            splits[count] = split;
            count++;
        }
        return new InteractionTable(users, items, splits, count, maxUser + 1, maxItem + 1);
    }

    // Lines the file holds, predicted from the newlines in its first MiB (exact when the file is shorter), 5 % over.
    private static int EstimateLines(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        long length = stream.Length;
        var sample = new byte[(int)Math.Min(length, 1 << 20)];
        int read = stream.ReadAtLeast(sample, sample.Length, throwOnEndOfStream: false);
        int newlines = sample.AsSpan(0, read).Count((byte)'\n');
        if (read >= length)
        {
            return newlines + 1;
        }
        double perByte = (newlines + 1.0) / Math.Max(1, read);
        return (int)Math.Min(Array.MaxLength, perByte * length * 1.05 + 1024);
    }

    private static int ParseId(ReadOnlySpan<char> field, string name, int line, string what)
    {
        if (!int.TryParse(field.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) || id < 0)
        {
            throw new InvalidDataException($"{name}: line {line}: {what} '{field}' is not a non-negative integer.");
        }
        return id;
    }
}
