// The interaction reader Stair.Kernels had before it read through Sep (StreamReader.ReadLine,
// string.Split, int.TryParse of each trimmed field): the baseline of InteractionReadBenchmarks.
// It yields the same arrays and counts as InteractionTable.Read, and checks the same things.
using System.Globalization;
using Stair.Kernels.IO;

namespace Stair.Kernels.Benchmarks;

internal static class HandWrittenInteractions
{
    public static (int[] Users, int[] Items, InteractionSplit[] Splits, int UserCount, int ItemCount) Read(string path)
    {
        using var reader = new StreamReader(path);
        string name = Path.GetFileName(path);
        string? first = reader.ReadLine() ?? throw new InvalidDataException($"{name}: the file is empty.");
        char separator = first.Contains('\t') ? '\t' : ',';
        string[] header = first.Split(separator);
        int userColumn, itemColumn, labelColumn = -1;
        bool hasHeader = !header.All(f => int.TryParse(f.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out _));
        if (separator == '\t' || header.Any(h => h.Trim() == "userID"))
        {
            userColumn = Array.FindIndex(header, h => h.Trim() == "userID");
            itemColumn = Array.FindIndex(header, h => h.Trim() == "itemID");
            labelColumn = Array.FindIndex(header, h => h.Trim() == "x_label");
            if (userColumn < 0 || itemColumn < 0)
            {
                throw new InvalidDataException($"{name}: line 1 must be a header naming the columns userID and itemID.");
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
        var users = new List<int>();
        var items = new List<int>();
        var splits = new List<InteractionSplit>();
        int needed = Math.Max(userColumn, Math.Max(itemColumn, labelColumn)) + 1;
        int lineNumber = hasHeader ? 2 : 1;
        for (string? line = hasHeader ? reader.ReadLine() : first; line is not null; line = reader.ReadLine(), lineNumber++)
        {
            if (line.Length == 0)
            {
                continue;
            }
            string[] fields = line.Split(separator);
            if (fields.Length < needed)
            {
                throw new InvalidDataException($"{name}: line {lineNumber} has {fields.Length} field(s), expected at least {needed}.");
            }
            users.Add(ParseId(fields[userColumn], name, lineNumber, "user id"));
            items.Add(ParseId(fields[itemColumn], name, lineNumber, "item id"));
            if (labelColumn >= 0)
            {
                int label = ParseId(fields[labelColumn], name, lineNumber, "x_label");
                if (label > 2)
                {
                    throw new InvalidDataException($"{name}: line {lineNumber}: x_label is {label}; it must be 0, 1 or 2.");
                }
                splits.Add((InteractionSplit)label);
            }
            else
            {
                splits.Add(InteractionSplit.Train);
            }
        }
        int userCount = users.Count == 0 ? 0 : users.Max() + 1;
        int itemCount = items.Count == 0 ? 0 : items.Max() + 1;
        return (users.ToArray(), items.ToArray(), splits.ToArray(), userCount, itemCount);
    }

    private static int ParseId(string field, string name, int line, string what)
    {
        if (!int.TryParse(field.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) || id < 0)
        {
            throw new InvalidDataException($"{name}: line {line}: {what} '{field}' is not a non-negative integer.");
        }
        return id;
    }
}
