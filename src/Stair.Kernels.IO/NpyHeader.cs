// The .npy header: reading the preamble (magic string, version, header length), parsing the
// Python dict literal numpy writes ({'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), })
// and building one for writing. Format reference: numpy's NEP 1 / numpy.lib.format docs.
using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Stair.Kernels.IO;

/// <summary>A parsed .npy header: element type, byte order, shape and element count.</summary>
internal sealed class NpyHeader
{
    // "\x93NUMPY" followed by a major and a minor version byte.
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // numpy's own loader refuses headers over 10 kB by default; a little more room costs nothing,
    // while trusting a 4 GB length from a corrupt 2.0 header would.
    private const int MaxHeaderLength = 1 << 20;

    // Data starts on a 64-byte boundary so memory-mapped arrays are aligned, as numpy does.
    private const int Alignment = 64;

    private NpyHeader(string descr, char kind, int itemSize, bool littleEndian, long[] extents, long count)
    {
        DataOffset = -1;
        Descr = descr;
        Kind = kind;
        ItemSize = itemSize;
        LittleEndian = littleEndian;
        Extents = extents;
        Count = count;
    }

    /// <summary>The numpy type string, as written (for messages).</summary>
    public string Descr { get; }

    /// <summary>numpy's kind character: 'f', 'i', 'S' or 'U' (the only kinds that get this far).</summary>
    public char Kind { get; }

    /// <summary>Bytes per element.</summary>
    public int ItemSize { get; }

    /// <summary>Whether multi-byte elements are stored least significant byte first.</summary>
    public bool LittleEndian { get; }

    /// <summary>The extents as numpy wrote them (a vector read for streaming may pass <see cref="int.MaxValue"/>).</summary>
    public long[] Extents { get; }

    /// <summary>The extents as .NET array dimensions (every header but a streamed long vector's has them).</summary>
    public int[] Shape => Array.ConvertAll(Extents, static e => checked((int)e));

    /// <summary>Number of elements (product of the shape); at most <see cref="Array.MaxLength"/> unless read as a long vector.</summary>
    public long Count { get; }

    /// <summary>Bytes from the start of the .npy data to the first element (preamble plus header); -1 when parsed from text alone.</summary>
    public long DataOffset { get; private set; }

    /// <summary>The numeric element type, or null for the string kinds.</summary>
    public NpyDataType? DataType => (Kind, ItemSize) switch
    {
        ('f', 4) => NpyDataType.Float32,
        ('f', 8) => NpyDataType.Float64,
        ('i', 4) => NpyDataType.Int32,
        ('i', 8) => NpyDataType.Int64,
        _ => null,
    };

    /// <summary>A description for messages, such as <c>'&lt;f4' array of shape (3, 4)</c>.</summary>
    public string Describe() => $"'{Descr}' array of shape {NpyArray.FormatShape(Extents)}";

    /// <summary>
    /// Reads the preamble and header from <paramref name="stream"/>, leaving it at the first data byte.
    /// </summary>
    /// <param name="stream">The stream, positioned at the start of the .npy data.</param>
    /// <param name="source">Names the file in messages.</param>
    /// <param name="allowStrings">Whether byte-string ('S') and unicode ('U') dtypes are accepted.</param>
    /// <param name="longVector">Whether a 1-D array may hold more elements than a .NET array (its reader streams it).</param>
    public static NpyHeader Read(Stream stream, string source, bool allowStrings, bool longVector = false)
    {
        Span<byte> preamble = stackalloc byte[12];
        int got = stream.ReadAtLeast(preamble[..8], 8, throwOnEndOfStream: false);
        if (got < 8)
        {
            throw new NpyFormatException($"{source} is not a .npy file: it is only {got} bytes long, shorter than the 8-byte preamble.");
        }
        if (!preamble[..6].SequenceEqual(Magic))
        {
            throw new NpyFormatException($"{source} is not a .npy file: it does not start with the magic string \\x93NUMPY (found {Convert.ToHexString(preamble[..6])}).");
        }
        byte major = preamble[6];
        byte minor = preamble[7];
        if (minor != 0 || major is < 1 or > 3)
        {
            throw new NpyFormatException($"{source} uses .npy format version {major}.{minor}; only versions 1.0, 2.0 and 3.0 are supported.");
        }

        // Version 1.0 stores the header length in 2 bytes; 2.0 and 3.0 widened it to 4.
        int lengthSize = major == 1 ? 2 : 4;
        if (stream.ReadAtLeast(preamble.Slice(8, lengthSize), lengthSize, throwOnEndOfStream: false) < lengthSize)
        {
            throw new NpyFormatException($"{source} is truncated inside the .npy preamble (header length missing).");
        }
        uint headerLength = major == 1
            ? BinaryPrimitives.ReadUInt16LittleEndian(preamble[8..])
            : BinaryPrimitives.ReadUInt32LittleEndian(preamble[8..]);
        if (headerLength > MaxHeaderLength)
        {
            throw new NpyFormatException($"{source} declares a {headerLength}-byte .npy header; headers over {MaxHeaderLength} bytes are refused as corrupt.");
        }

        var headerBytes = new byte[headerLength];
        if (stream.ReadAtLeast(headerBytes, headerBytes.Length, throwOnEndOfStream: false) < headerBytes.Length)
        {
            throw new NpyFormatException($"{source} is truncated inside the .npy header ({headerLength} bytes declared).");
        }

        // 1.0 and 2.0 headers are latin-1; 3.0 exists only to allow UTF-8 (for field names).
        string text = major == 3 ? DecodeUtf8(headerBytes, source) : Encoding.Latin1.GetString(headerBytes);
        NpyHeader header = Parse(text, source, allowStrings, longVector);
        header.DataOffset = 8 + lengthSize + headerLength;
        return header;
    }

    /// <summary>Parses the header dict text and checks that this library can read the array it describes.</summary>
    public static NpyHeader Parse(string text, string source, bool allowStrings, bool longVector = false)
    {
        object? literal;
        try
        {
            literal = new PythonLiteralParser(text).ParseDocument();
        }
        catch (FormatException e)
        {
            throw new NpyFormatException($"{source} has a malformed .npy header ({e.Message}): {Quote(text)}", e);
        }

        if (literal is not Dictionary<string, object?> dict)
        {
            throw new NpyFormatException($"{source} has a malformed .npy header (not a dict): {Quote(text)}");
        }
        foreach (string key in (ReadOnlySpan<string>)["descr", "fortran_order", "shape"])
        {
            if (!dict.ContainsKey(key))
            {
                throw new NpyFormatException($"{source} has a malformed .npy header (no '{key}' key): {Quote(text)}");
            }
        }

        if (dict["fortran_order"] is not bool fortranOrder)
        {
            throw new NpyFormatException($"{source} has a malformed .npy header ('fortran_order' is not True or False): {Quote(text)}");
        }
        long[] shape = ParseShape(dict["shape"], source, text, longVector, out long count);

        // Row-major and column-major layouts coincide when at most one extent exceeds 1.
        if (fortranOrder && shape.Count(static n => n > 1) > 1)
        {
            throw new NpyFormatException($"{source} holds a Fortran-ordered (column-major) array of shape {NpyArray.FormatShape(shape)}; only C-ordered arrays are supported. Save it with numpy.ascontiguousarray(a) first.");
        }

        string descr = dict["descr"] switch
        {
            string s => s,
            List<object?> => throw new NpyFormatException($"{source} holds a structured (record) array; only plain numeric arrays are supported."),
            _ => throw new NpyFormatException($"{source} has a malformed .npy header ('descr' is not a string): {Quote(text)}"),
        };
        var (kind, itemSize, littleEndian) = ParseDescr(descr, source, allowStrings);

        return new NpyHeader(descr, kind, itemSize, littleEndian, shape, count);
    }

    /// <summary>
    /// Builds a version 1.0 header (2.0 when it would exceed 65535 bytes) for a C-ordered array,
    /// padded with spaces and a final newline so the data starts on a 64-byte boundary.
    /// </summary>
    public static byte[] Build(string descr, ReadOnlySpan<int> shape) => BuildFor(descr, NpyArray.FormatShape(shape));

    /// <summary>As <see cref="Build"/>, for a vector of any length (a CSR member past 2³¹ entries).</summary>
    public static byte[] BuildVector(string descr, long length) => BuildFor(descr, NpyArray.FormatShape([length]));

    private static byte[] BuildFor(string descr, string shape)
    {
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int major = 1;
        int preambleLength = 10;
        int unpadded = preambleLength + dict.Length + 1;
        int padded = (unpadded + Alignment - 1) / Alignment * Alignment;
        if (padded - preambleLength > ushort.MaxValue)
        {
            major = 2;
            preambleLength = 12;
            unpadded = preambleLength + dict.Length + 1;
            padded = (unpadded + Alignment - 1) / Alignment * Alignment;
        }

        var bytes = new byte[padded];
        Magic.CopyTo(bytes);
        bytes[6] = (byte)major;
        bytes[7] = 0;
        int headerLength = padded - preambleLength;
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)headerLength);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)headerLength);
        }
        int end = preambleLength + Encoding.ASCII.GetBytes(dict, bytes.AsSpan(preambleLength));
        bytes.AsSpan(end, padded - 1 - end).Fill((byte)' ');
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static long[] ParseShape(object? value, string source, string text, bool longVector, out long count)
    {
        if (value is not PythonTuple tuple)
        {
            throw new NpyFormatException($"{source} has a malformed .npy header ('shape' is not a tuple): {Quote(text)}");
        }
        var shape = new long[tuple.Items.Count];
        // A streamed vector (a CSR member past 2³¹ entries) is never held in one array: its bytes only have to be countable.
        bool streamed = longVector && shape.Length == 1;
        count = 1;
        bool overflow = false;
        for (int k = 0; k < shape.Length; k++)
        {
            if (tuple.Items[k] is not long extent || extent < 0)
            {
                throw new NpyFormatException($"{source} has a malformed .npy header ('shape' entry {k} is not a non-negative integer): {Quote(text)}");
            }
            if (extent > (streamed ? long.MaxValue / 16 : int.MaxValue))
            {
                throw new NpyFormatException($"{source} declares dimension {k} of extent {extent}, more than a .NET array can index.");
            }
            shape[k] = extent;

            // Keep multiplying past an overflow only to notice a later zero extent, which makes the array empty.
            if (!overflow)
            {
                try
                {
                    count = checked(count * extent);
                }
                catch (OverflowException)
                {
                    overflow = true;
                }
            }
        }
        if (shape.Contains(0))
        {
            count = 0;
        }
        else if (overflow || (count > Array.MaxLength && !streamed))
        {
            throw new NpyFormatException($"{source} declares shape {NpyArray.FormatShape(shape)}, more elements than a .NET array can hold ({Array.MaxLength}).");
        }
        return shape;
    }

    private static (char Kind, int ItemSize, bool LittleEndian) ParseDescr(string descr, string source, bool allowStrings)
    {
        ReadOnlySpan<char> rest = descr;
        char order = rest.Length > 0 && rest[0] is '<' or '>' or '|' or '=' ? rest[0] : '=';
        if (rest.Length > 0 && rest[0] is '<' or '>' or '|' or '=')
        {
            rest = rest[1..];
        }
        if (rest.Length >= 2
            && int.TryParse(rest[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int itemSize))
        {
            char kind = rest[0];
            bool numeric = (kind is 'f' or 'i') && itemSize is 4 or 8;
            bool text = allowStrings && kind is 'S' or 'U';
            if ((numeric && order != '|') || text)
            {
                bool littleEndian = order switch
                {
                    '<' => true,
                    '>' => false,
                    _ => BitConverter.IsLittleEndian,
                };
                if (kind == 'U' && itemSize > int.MaxValue / 4)
                {
                    throw new NpyFormatException($"{source} declares the string dtype '{descr}', too long to read.");
                }
                return (kind, kind == 'U' ? itemSize * 4 : itemSize, littleEndian);
            }
        }
        throw new NpyFormatException($"{source} holds an array of dtype '{descr}' ({DescribeDescr(rest)}), which is not supported: only float32, float64, int32 and int64 ('<f4', '<f8', '<i4', '<i8', or their big-endian '>' forms) can be read.");
    }

    // A human name for a numpy type string, so the message says "float16" rather than only "<f2".
    private static string DescribeDescr(ReadOnlySpan<char> typeCode)
    {
        if (typeCode.IsEmpty)
        {
            return "empty type string";
        }
        bool sized = int.TryParse(typeCode[1..], NumberStyles.None, CultureInfo.InvariantCulture, out int size);
        int bits = size * 8;
        return typeCode[0] switch
        {
            'f' when sized => $"float{bits}",
            'i' when sized => $"int{bits}",
            'u' when sized => $"uint{bits}",
            'c' when sized => $"complex{bits}",
            'b' => "bool",
            'U' => "unicode string",
            'S' or 'a' => "byte string",
            'O' => "Python object",
            'V' => "raw bytes / void",
            'M' => "datetime64",
            'm' => "timedelta64",
            _ => "unknown type",
        };
    }

    private static string DecodeUtf8(byte[] bytes, string source)
    {
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new NpyFormatException($"{source} has a version 3.0 .npy header that is not valid UTF-8.", e);
        }
    }

    // Headers can be long and full of padding; show the meaningful part.
    private static string Quote(string text)
    {
        string trimmed = text.TrimEnd();
        return trimmed.Length <= 200 ? $"\"{trimmed}\"" : $"\"{trimmed[..200]}…\"";
    }
}
