// The fuzz targets. Each takes the raw input bytes, feeds them to one reader or constructor and lets
// through only the exceptions that API documents (its /// <exception> docs); any other exception escapes,
// which afl-fuzz records as a crash and FuzzCorpusReplayTests as a failure. After a successful read each
// target also checks a few invariants of the result (a failed check is a FuzzInvariantException, a crash).
// This file is compiled into fuzz/Stair.Kernels.Fuzz and, linked, into tests/Stair.Kernels.Tests.
using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using Stair.Kernels.Cli;
using Stair.Kernels.IO;
using Stair.Recommender.Features;

namespace Stair.Kernels.Fuzzing;

/// <summary>A fuzz target found a result that breaks an invariant of the API (never documented: a crash).</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);

internal static class FuzzTargets
{
    /// <summary>Every target, as scripts/fuzz.sh and the fuzz binary's first argument name them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["npy", "npz", "inter", "items", "csr", "cli"];

    /// <summary>Inputs are cut to this many bytes, so every execution stays cheap.</summary>
    public const int MaxInputBytes = 1 << 16;

    // Round trips and dense copies only for results this small.
    private const int SmallElements = 1 << 14;

    /// <summary>Runs one input through one target.</summary>
    /// <exception cref="ArgumentException"><paramref name="target"/> is not one of <see cref="Names"/>.</exception>
    public static void Run(string target, byte[] data)
    {
        if (data.Length > MaxInputBytes)
        {
            data = data.AsSpan(0, MaxInputBytes).ToArray();
        }
        switch (target)
        {
            case "npy": Npy(data); break;
            case "npz": Npz(data); break;
            case "inter": Inter(data); break;
            case "items": Items(data); break;
            case "csr": Csr(data); break;
            case "cli": Cli(data); break;
            default: throw new ArgumentException($"Unknown fuzz target '{target}' (targets: {string.Join(", ", Names)}).", nameof(target));
        }
    }

    // ---- .npy: header and body (Npy.Read, Npy.ReadMatrix, the NpyArray conversions, a write/read round trip) ----

    private static void Npy(byte[] data)
    {
        NpyArray array;
        try
        {
            array = IO.Npy.Read(new MemoryStream(data, writable: false));
        }
        catch (NpyFormatException)
        {
            return;
        }
        long count = 1;
        foreach (int extent in array.Shape)
        {
            Check(extent >= 0, "negative extent");
            count *= extent;
        }
        Check(count == array.Length, $"shape {string.Join("x", array.Shape)} but {array.Length} elements");

        bool integer = array.DataType is NpyDataType.Int32 or NpyDataType.Int64;
        try
        {
            Check(array.ToFloatArray().Length == array.Length, "ToFloatArray length");
        }
        catch (OverflowException) when (array.DataType == NpyDataType.Float64)
        {
        }
        if (integer)
        {
            try
            {
                Check(array.ToInt32Array().Length == array.Length, "ToInt32Array length");
            }
            catch (OverflowException) when (array.DataType == NpyDataType.Int64)
            {
            }
            Check(array.ToInt64Array().Length == array.Length, "ToInt64Array length");
        }
        else
        {
            Check(array.ToDoubleArray().Length == array.Length, "ToDoubleArray length");
        }

        // ReadMatrix reads the same bytes: the same elements for a 2-D array, a format error otherwise.
        try
        {
            float[] matrix = IO.Npy.ReadMatrix(new MemoryStream(data, writable: false), out int rows, out int columns);
            Check(array.Rank == 2 && rows == array.Shape[0] && columns == array.Shape[1] && matrix.Length == array.Length, "ReadMatrix disagrees with Read");
        }
        catch (NpyFormatException)
        {
            Check(array.Rank != 2 || array.DataType == NpyDataType.Float64, "ReadMatrix refused a readable 2-D array");
        }

        if (array.Length <= SmallElements)
        {
            var stream = new MemoryStream();
            IO.Npy.Write(stream, array);
            stream.Position = 0;
            NpyArray back = IO.Npy.Read(stream);
            Check(back.DataType == array.DataType && back.Shape.SequenceEqual(array.Shape) && ElementBytes(back).SequenceEqual(ElementBytes(array)),
                "write/read round trip changed the array");
        }
    }

    private static byte[] ElementBytes(NpyArray array) => array.DataType switch
    {
        NpyDataType.Float32 => MemoryMarshal.AsBytes(array.AsSpan<float>()).ToArray(),
        NpyDataType.Float64 => MemoryMarshal.AsBytes(array.AsSpan<double>()).ToArray(),
        NpyDataType.Int32 => MemoryMarshal.AsBytes(array.AsSpan<int>()).ToArray(),
        _ => MemoryMarshal.AsBytes(array.AsSpan<long>()).ToArray(),
    };

    // ---- scipy .npz (ScipyNpz.ReadCsr, then the matrix is used and written back) ----

    // A CSC archive declaring many rows is skipped: converting it to CSR allocates 8 bytes of row offsets per
    // declared row (twice, in Transpose), a cost of the format, not a bug; found as afl-fuzz hangs (a 1.2 kB file
    // declaring 318 M rows took 125 s and 5 GB).
    private const long MaxCscRows = 1 << 20;

    private static void Npz(byte[] data)
    {
        if (DeclaredRows(data) > MaxCscRows)
        {
            return;
        }
        CsrMatrix matrix;
        try
        {
            matrix = ScipyNpz.ReadCsr(new MemoryStream(data, writable: false));
        }
        catch (NpyFormatException)
        {
            return;
        }
        UseMatrix(matrix);
        if (matrix.NonZeros <= SmallElements && matrix.Rows <= SmallElements)
        {
            var stream = new MemoryStream();
            ScipyNpz.WriteCsr(stream, matrix, compressed: false);
            stream.Position = 0;
            CsrMatrix back = ScipyNpz.ReadCsr(stream);
            Check(back.Rows == matrix.Rows && back.Columns == matrix.Columns && back.RowOffsets.SequenceEqual(matrix.RowOffsets)
                && back.ColumnIndices.SequenceEqual(matrix.ColumnIndices) && back.Values.SequenceEqual(matrix.Values), "npz write/read round trip changed the matrix");
        }
    }

    // The row count the archive's 'shape' member declares, 0 when it cannot be read (then ReadCsr says why). Checked for
    // CSR too: a CSR archive declaring that many rows needs an indptr longer than any fuzz input, so it is refused anyway.
    private static long DeclaredRows(byte[] data)
    {
        try
        {
            using var zip = new System.IO.Compression.ZipArchive(new MemoryStream(data, writable: false), System.IO.Compression.ZipArchiveMode.Read);
            using Stream? shape = (zip.GetEntry("shape.npy") ?? zip.GetEntry("shape"))?.Open();
            NpyArray? extents = shape is null ? null : IO.Npy.Read(shape);
            return extents is { DataType: NpyDataType.Int32 or NpyDataType.Int64, Length: > 0 } ? extents.ToInt64Array()[0] : 0;
        }
        catch (Exception)
        {
            return 0; // only a pre-filter: the ReadCsr call below meets the same input under the documented rule
        }
    }

    // ---- MMRec .inter TSV / user,item CSV (InteractionTable.Read) ----

    private static void Inter(byte[] data)
    {
        string path = TempFile("inter", data);
        InteractionTable table;
        try
        {
            table = InteractionTable.Read(path);
        }
        catch (InvalidDataException)
        {
            return;
        }
        finally
        {
            File.Delete(path);
        }
        int maxUser = -1, maxItem = -1;
        for (int k = 0; k < table.Count; k++)
        {
            Check(table.UserIds[k] >= 0 && table.ItemIds[k] >= 0 && (int)table.Splits[k] is >= 0 and <= 2, $"interaction {k} is out of range");
            maxUser = Math.Max(maxUser, table.UserIds[k]);
            maxItem = Math.Max(maxItem, table.ItemIds[k]);
        }
        Check(table.UserCount == maxUser + 1 && table.ItemCount == maxItem + 1, "user or item count is not the largest id + 1");
        int selected = 0;
        foreach (InteractionSplit split in Enum.GetValues<InteractionSplit>())
        {
            (int[] users, int[] items) = table.Select(split);
            Check(users.Length == items.Length, "Select returned arrays of different lengths");
            selected += users.Length;
        }
        Check(selected == table.Count, "the splits do not add up to Count");
    }

    // ---- items.tsv (TextFeatures.ReadItemTexts) ----

    private static void Items(byte[] data)
    {
        string path = TempFile("items", data);
        string[] texts;
        try
        {
            texts = TextFeatures.ReadItemTexts(path);
        }
        catch (InvalidDataException)
        {
            return;
        }
        finally
        {
            File.Delete(path);
        }
        Check(texts.Length > 0 && texts.All(t => t is not null && !t.Contains('\n')), "items.tsv texts are empty, missing or hold a line break");
    }

    // ---- CsrMatrix's public constructors, from arrays decoded out of the input ----

    // Layout: byte 0 flags (bit 0: 64-bit row offsets; bit 1: full-width elements, else one signed byte each;
    // bit 2: rows and columns as int32, else one signed byte each), then rows, columns, then one byte each for the
    // lengths of the offsets, column and value arrays, then the elements (missing bytes read as 0). A one-byte value
    // of 127 reads as NaN, -128 as +infinity.
    private static void Csr(byte[] data)
    {
        var input = new ByteCursor(data);
        byte flags = input.Byte();
        bool wideOffsets = (flags & 1) != 0, fullElements = (flags & 2) != 0, fullShape = (flags & 4) != 0;
        int rows = fullShape ? input.Int32() : (sbyte)input.Byte();
        int columns = fullShape ? input.Int32() : (sbyte)input.Byte();
        int offsetCount = input.Byte(), columnCount = input.Byte(), valueCount = input.Byte();
        var offsets = new long[offsetCount];
        for (int k = 0; k < offsetCount; k++)
        {
            offsets[k] = fullElements ? (wideOffsets ? input.Int64() : input.Int32()) : (sbyte)input.Byte();
        }
        var columnIndices = new int[columnCount];
        for (int k = 0; k < columnCount; k++)
        {
            columnIndices[k] = fullElements ? input.Int32() : (sbyte)input.Byte();
        }
        var values = new float[valueCount];
        for (int k = 0; k < valueCount; k++)
        {
            values[k] = fullElements ? input.Single() : (sbyte)input.Byte() switch
            {
                127 => float.NaN,
                -128 => float.PositiveInfinity,
                var v => v * 0.5f,
            };
        }

        CsrMatrix matrix;
        try
        {
            matrix = wideOffsets
                ? new CsrMatrix(rows, columns, offsets, columnIndices, values)
                : new CsrMatrix(rows, columns, Array.ConvertAll(offsets, static o => unchecked((int)o)), columnIndices, values);
        }
        catch (ArgumentException)
        {
            return;
        }
        Check(matrix.Rows == rows && matrix.Columns == columns && matrix.NonZeros == values.Length, "the matrix does not have the given shape and entries");
        UseMatrix(matrix);
    }

    // Reads every row and, when the matrix is small enough, transposes it, densifies it and asks whether it is symmetric.
    private static void UseMatrix(CsrMatrix matrix)
    {
        Check(matrix.Rows >= 0 && matrix.Columns >= 0 && matrix.RowOffsets.Length == matrix.Rows + 1L, "bad shape");
        long seen = 0;
        for (int r = 0; r < matrix.Rows; r++)
        {
            ReadOnlySpan<int> columns = matrix.RowColumns(r);
            Check(columns.Length == matrix.RowLength(r) && matrix.RowValues(r).Length == columns.Length, $"row {r} length");
            foreach (int c in columns)
            {
                Check((uint)c < (uint)matrix.Columns, $"row {r} has column {c}");
            }
            seen += columns.Length;
        }
        Check(seen == matrix.NonZeros && matrix.RowPointers.Length == matrix.Rows + 1, "rows do not add up to NonZeros");
        if (matrix.Columns <= SmallElements)
        {
            CsrMatrix transpose = matrix.Transpose();
            Check(transpose.Rows == matrix.Columns && transpose.Columns == matrix.Rows && transpose.NonZeros == matrix.NonZeros, "transpose shape");
            if (matrix.IsSquare)
            {
                _ = matrix.IsSymmetric();
            }
        }
        if ((long)matrix.Rows * matrix.Columns <= SmallElements)
        {
            Check(matrix.ToDense().Length == matrix.Rows * matrix.Columns, "ToDense length");
        }
    }

    // ---- The CLI's argument parsing (CliApp.Parse; no command runs) ----

    private static RootCommand? _root;

    private static readonly MethodInfo GetOptionValue = typeof(ParseResult).GetMethods()
        .Single(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethodDefinition && m.GetParameters()[0].ParameterType.IsGenericType
            && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(Option<>));

    private static readonly MethodInfo GetArgumentValue = typeof(ParseResult).GetMethods()
        .Single(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethodDefinition && m.GetParameters()[0].ParameterType.IsGenericType
            && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(Argument<>));

    // One argument per line of the (UTF-8) input, at most 64. Parsing reports bad usage as parse errors, never by
    // throwing; with no errors, every option and argument of the chosen command yields its value, as the command's
    // action would ask for it. No exception is documented here: the CLI turns every usage problem into one error line.
    private static void Cli(byte[] data)
    {
        string[] args = Encoding.UTF8.GetString(data).Split('\n');
        if (args.Length > 64)
        {
            args = args[..64];
        }
        RootCommand root = _root ??= CliApp.CreateRoot();
        ParseResult parse = CliApp.Parse(root, args);
        if (parse.Action is ParseErrorAction || parse.Errors.Count > 0)
        {
            Check(CliApp.Describe(parse, root).Length > 0, "empty error description");
            return;
        }
        if (parse.Action != parse.CommandResult.Command.Action)
        {
            // --help (or -h, -?) anywhere: the help runs instead of the command, which reads no value, and the
            // parser then reports no errors for the values it never checked.
            return;
        }
        for (Command? command = parse.CommandResult.Command; command is not null; command = (command == root ? null : root))
        {
            foreach (Option option in command.Options)
            {
                Value(GetOptionValue, option.ValueType, parse, option);
            }
            foreach (Argument argument in command.Arguments)
            {
                Value(GetArgumentValue, argument.ValueType, parse, argument);
            }
        }
    }

    private static void Value(MethodInfo getValue, Type type, ParseResult parse, Symbol symbol)
    {
        if (type == typeof(void))
        {
            return; // --help, --version: options without a value
        }
        try
        {
            getValue.MakeGenericMethod(type).Invoke(parse, [symbol]);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
        }
    }

    // ---- Helpers ----

    private static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(what);
        }
    }

    // The readers that take a path get the input as a file: in /dev/shm when there is one (no disk writes).
    private static string TempFile(string target, byte[] data)
    {
        string directory = Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        string path = Path.Combine(directory, $"stair-fuzz-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.{target}");
        File.WriteAllBytes(path, data);
        return path;
    }

    private sealed class ByteCursor(byte[] data)
    {
        private int _position;

        public byte Byte() => _position < data.Length ? data[_position++] : (byte)0;

        public int Int32() => Byte() | (Byte() << 8) | (Byte() << 16) | (Byte() << 24);

        public long Int64() => (uint)Int32() | ((long)Int32() << 32);

        public float Single() => BitConverter.Int32BitsToSingle(Int32());
    }
}
