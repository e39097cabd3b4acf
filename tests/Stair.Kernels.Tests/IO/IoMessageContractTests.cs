// What the IO readers' messages say and the edges their arithmetic turns on, pinned where mutation testing
// (kernels.md "Mutation score") found nothing else looking: which source a message names (a file's path in
// quotes, any other stream as <stream>), the exact byte counts a truncated array, string or member is reported
// with (seekable, non-seekable and inside an .npz), the scalar-string reader (a single string, byte or UTF-32
// in either order, invalid code points refused), the 200-character cut of a quoted header, latin-1 against
// UTF-8 header text, the header writer's 64-byte alignment and its switch to version 2.0, the shape checks at
// .NET's array limits, the literal parser's nesting limit and end-of-text edges, the streamed CSR reader's
// indptr checks, count check and the refills of its 1 MiB buffer, the choice between the streamed and the
// whole-array reader, a member stored both with and without ".npy", and the interaction reader's header
// detection and literal quotes.
using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using Stair.Kernels.IO;
using Stair.Kernels.Tests.Infrastructure;
using static Stair.Kernels.Tests.IO.IoTestSupport;

namespace Stair.Kernels.Tests.IO;

public sealed class IoMessageContractTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Header(string descr, string shape) => $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";

    // 1,000 float32 elements declared, 8 bytes of data present.
    private static byte[] ShortArray() => RawNpy(Header("<f4", "(1000,)"), Bytes(1f, 2f));

    private const string ShortMessage = "is truncated: its '<f4' array of shape (1000,) needs 4000 bytes of data after the header, but only 8 are there.";

    // ---- Npy: which source a message names, and the byte counts of a truncated array ----

    [Fact]
    public void A_truncated_file_is_named_by_its_path_in_quotes_with_the_bytes_needed_and_present()
    {
        string path = _temp.File("short.npy");
        File.WriteAllBytes(path, ShortArray());

        Assert.Equal($"'{path}' {ShortMessage}", Assert.Throws<NpyFormatException>(() => Npy.Read(path)).Message);
        using (FileStream file = File.OpenRead(path))
        {
            Assert.Equal($"'{path}' {ShortMessage}", Assert.Throws<NpyFormatException>(() => Npy.Read(file)).Message);
        }
        using (FileStream file = File.OpenRead(path))
        {
            Assert.Equal($"'{path}' {ShortMessage}", Assert.Throws<NpyFormatException>(() => Npy.ReadMatrix(file, out _, out _)).Message);
        }
        Assert.Equal($"'{path}' {ShortMessage}", Assert.Throws<NpyFormatException>(() => Npy.ReadMatrix(path, out _, out _)).Message);
    }

    [Fact]
    public void A_truncated_stream_is_named_stream_and_refused_from_its_header_before_the_data_is_read()
    {
        byte[] bytes = ShortArray();
        var stream = new MemoryStream(bytes);
        Assert.Equal($"<stream> {ShortMessage}", Assert.Throws<NpyFormatException>(() => Npy.Read(stream)).Message);
        // A seekable stream's length shows the shortfall before the (possibly huge) array is allocated or read.
        Assert.Equal(bytes.Length - 8, stream.Position);

        // One that cannot seek is found short while reading: the same counts.
        var unseekable = new NonSeekableStream(new MemoryStream(bytes));
        Assert.Equal($"<stream> {ShortMessage}", Assert.Throws<NpyFormatException>(() => Npy.Read(unseekable)).Message);

        // int64 elements: the bytes needed are count × 8.
        byte[] wide = RawNpy(Header("<i8", "(3,)"), new byte[20]);
        Assert.Equal("<stream> is truncated: its '<i8' array of shape (3,) needs 24 bytes of data after the header, but only 20 are there.",
            Assert.Throws<NpyFormatException>(() => Npy.Read(new NonSeekableStream(new MemoryStream(wide)))).Message);
        Assert.Equal("<stream> is truncated: its '<i8' array of shape (3,) needs 24 bytes of data after the header, but only 20 are there.",
            Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(wide))).Message);
    }

    [Fact]
    public void Arrays_longer_than_one_16_MiB_chunk_round_trip()
    {
        // Elements move between stream and array in 16 MiB chunks; one element more than four million crosses into a second.
        var values = new float[(1 << 22) + 3];
        for (int k = 0; k < values.Length; k++)
        {
            values[k] = k * 0.5f - 7f;
        }
        var stream = new MemoryStream();
        Npy.Write(stream, values);
        stream.Position = 0;
        Bits.AssertBitsEqual(values, Npy.Read(stream).TakeFloatArray(), "values");
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void A_shape_whose_product_passes_int_max_is_described_as_such()
    {
        var e = Assert.Throws<ArgumentException>(() => Npy.Write(new MemoryStream(), [1f], 65536, 65536));
        Assert.Contains("Shape (65536, 65536) holds more than int.MaxValue elements but the data has 1.", e.Message);
        e = Assert.Throws<ArgumentException>(() => Npy.Write(new MemoryStream(), [1f], 46341, 46340));
        Assert.Contains("holds 2147441940 elements but the data has 1.", e.Message);
    }

    // ---- Scalar strings (the format member of an .npz) ----

    private static string ReadString(byte[] npy) => Npy.ReadScalarString(new MemoryStream(npy), "<stream>");

    [Fact]
    public void A_string_array_of_more_than_one_string_is_described()
    {
        byte[] two = RawNpy(Header("|S3", "(2,)"), Encoding.ASCII.GetBytes("csrcsc"));
        Assert.Equal("<stream> holds a '|S3' array of shape (2,); a single string was expected.",
            Assert.Throws<NpyFormatException>(() => ReadString(two)).Message);
    }

    [Fact]
    public void A_truncated_string_is_reported_with_its_byte_counts()
    {
        byte[] cut = RawNpy(Header("|S5", "()"), Encoding.ASCII.GetBytes("csr"));
        const string message = "<stream> is truncated: its '|S5' array of shape () needs 5 bytes of data after the header, but only 3 are there.";
        Assert.Equal(message, Assert.Throws<NpyFormatException>(() => ReadString(cut)).Message);
        Assert.Equal(message, Assert.Throws<NpyFormatException>(() => Npy.ReadScalarString(new NonSeekableStream(new MemoryStream(cut)), "<stream>")).Message);
        Assert.Equal("csr", ReadString(RawNpy(Header("|S5", "()"), Encoding.ASCII.GetBytes("csr\0\0"))));
    }

    private static byte[] Utf32(string text, int width, bool bigEndian)
    {
        var bytes = new byte[4 * width];
        int k = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (bigEndian)
            {
                BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 * k++), rune.Value);
            }
            else
            {
                BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * k++), rune.Value);
            }
        }
        return bytes;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unicode_strings_decode_in_either_byte_order(bool bigEndian)
    {
        string descr = (bigEndian ? ">" : "<") + "U5";
        Assert.Equal("csr", ReadString(RawNpy(Header(descr, "()"), Utf32("csr", 5, bigEndian))));
        Assert.Equal("é€😀", ReadString(RawNpy(Header(descr, "()"), Utf32("é€😀", 5, bigEndian))));
    }

    [Theory]
    [InlineData("<U1", new byte[] { 0x00, 0xD8, 0x00, 0x00 })] // a lone surrogate, U+D800
    [InlineData("<U1", new byte[] { 0x00, 0x00, 0x11, 0x00 })] // past U+10FFFF
    [InlineData(">U1", new byte[] { 0x00, 0x11, 0x00, 0x00 })]
    public void Invalid_utf32_is_refused_by_name(string descr, byte[] data)
    {
        var e = Assert.Throws<NpyFormatException>(() => ReadString(RawNpy(Header(descr, "()"), data)));
        Assert.Equal("<stream> holds a unicode string that is not valid UTF-32.", e.Message);
        Assert.IsAssignableFrom<DecoderFallbackException>(e.InnerException);
    }

    [Fact]
    public void A_scipy_archive_whose_format_is_a_big_endian_unicode_string_reads()
    {
        var members = DefaultMembers();
        members["format.npy"] = s => s.Write(RawNpy(Header(">U3", "()"), Utf32("csr", 3, bigEndian: true)));
        string path = _temp.File("unicode.npz");
        WriteNpz(path, members);
        Assert.Equal(Dense, ScipyNpz.ReadCsr(path).ToDense());
    }

    // ---- Header text ----

    private static string ReadError(byte[] bytes) => Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(bytes))).Message;

    [Theory]
    [InlineData(199)]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(400)]
    public void A_quoted_header_is_cut_after_200_characters(int length)
    {
        const string head = "{'descr': '<f4', 'fortran_order': False, 'pad': '";
        string text = head + new string('x', length - head.Length - 2) + "'}";
        Assert.Equal(length, text.Length);
        string message = ReadError(RawNpy(text, new byte[4]));
        string quoted = length <= 200 ? $"\"{text}\"" : $"\"{text[..200]}…\"";
        Assert.Equal($"<stream> has a malformed .npy header (no 'shape' key): {quoted}", message);
    }

    [Fact]
    public void Version_1_headers_are_latin1_and_version_3_headers_utf8()
    {
        // A latin-1 'é' (one byte, 0xE9, not valid UTF-8) in an extra key of a 1.0 header reads; so does a UTF-8 one in 3.0.
        string text = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'note': 'café', }";
        Assert.Equal(new[] { 1f, 2f }, Npy.Read(new MemoryStream(RawNpy(text, Bytes(1f, 2f)))).TakeFloatArray());
        Assert.Equal(new[] { 1f, 2f }, Npy.Read(new MemoryStream(RawNpy(text, Bytes(1f, 2f), major: 3))).TakeFloatArray());

        byte[] bad = RawNpy(text.Replace("café", "caf~"), Bytes(1f, 2f), major: 3);
        bad[Array.IndexOf(bad, (byte)'~')] = 0xFF;
        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(bad)));
        Assert.Equal("<stream> has a version 3.0 .npy header that is not valid UTF-8.", e.Message);
        Assert.IsAssignableFrom<DecoderFallbackException>(e.InnerException);
    }

    [Fact]
    public void Headers_up_to_one_mebibyte_are_read_and_longer_ones_refused()
    {
        static byte[] OfLength(int headerLength)
        {
            string dict = Header("<f4", "(1,)");
            string text = dict + new string(' ', headerLength - dict.Length - 1) + "\n";
            return RawNpy(text, Bytes(2.5f), major: 2, pad: false);
        }
        Assert.Equal(new[] { 2.5f }, Npy.Read(new MemoryStream(OfLength(1 << 20))).TakeFloatArray());
        Assert.Equal("<stream> declares a 1048577-byte .npy header; headers over 1048576 bytes are refused as corrupt.", ReadError(OfLength((1 << 20) + 1)));
    }

    [Fact]
    public void Written_headers_align_the_data_to_64_bytes_and_switch_to_version_2_only_when_1_cannot_hold_them()
    {
        // Short headers: the shape's digits vary the length a little, and 1 to 64 unit extents (3 bytes each) give
        // every length modulo 64; then around the 65,535-byte limit of a 1.0 header, where many unit extents make
        // the header long.
        for (int n = 1; n <= 70; n++)
        {
            AssertHeader(Written([n, 1, n * 1000 + 7]), [n, 1, n * 1000 + 7]);
        }
        for (int dims = 1; dims <= 64; dims++)
        {
            int[] shape = Enumerable.Repeat(1, dims).ToArray();
            AssertHeader(Written(shape), shape);
        }
        bool sawOne = false, sawTwo = false;
        // 3 bytes per unit extent: 130 lengths, of which more than 64 consecutive ones are version 2.0 headers, so
        // both versions meet every header length modulo 64.
        for (int dims = 21_800; dims <= 21_930; dims++)
        {
            int[] shape = Enumerable.Repeat(1, dims).ToArray();
            byte[] bytes = Written(shape);
            AssertHeader(bytes, shape);
            sawOne |= bytes[6] == 1;
            sawTwo |= bytes[6] == 2;
        }
        Assert.True(sawOne && sawTwo);

        static byte[] Written(int[] shape)
        {
            var stream = new MemoryStream();
            Npy.Write(stream, new float[shape.Aggregate(1, (a, b) => a * b)], shape);
            return stream.ToArray();
        }

        static void AssertHeader(byte[] bytes, int[] shape)
        {
            int count = shape.Aggregate(1, (a, b) => a * b);
            int dataOffset = bytes.Length - 4 * count;
            Assert.Equal(0, dataOffset % 64);
            int major = bytes[6];
            int declared = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
            Assert.Equal(dataOffset, (major == 1 ? 10 : 12) + declared);
            // Version 1.0 whenever its 2-byte length can hold the header: up to a 65,536-byte aligned preamble and header.
            Assert.Equal(dataOffset <= 65536 ? 1 : 2, major);
            Assert.Equal((byte)'\n', bytes[dataOffset - 1]);
            // Padded to the next multiple of 64 and no further (numpy's own writer pads the same way): fewer than 64
            // spaces stand between the dictionary's closing brace and the newline.
            int preamble = major == 1 ? 10 : 12;
            int text = Encoding.ASCII.GetString(bytes, preamble, dataOffset - 1 - preamble).TrimEnd(' ').Length;
            Assert.Equal((byte)'}', bytes[preamble + text - 1]);
            Assert.InRange(dataOffset - (preamble + text + 1), 0, 63);
            Assert.Equal(shape, Npy.Read(new MemoryStream(bytes)).Shape);
        }
    }

    // ---- Shapes at .NET's limits ----

    [Fact]
    public void Extents_and_element_counts_are_checked_at_the_array_limits()
    {
        // One past int.MaxValue in a dimension cannot be indexed, even as a vector (only a streamed CSR member may be that long).
        Assert.Equal("<stream> declares dimension 0 of extent 3000000000, more than a .NET array can index.",
            ReadError(RawNpy(Header("<f4", "(3000000000,)"), [])));
        // Exactly Array.MaxLength elements pass the count check (and then the data is found missing) ...
        Assert.Equal($"<stream> is truncated: its '<f4' array of shape ({Array.MaxLength},) needs {4L * Array.MaxLength} bytes of data after the header, but only 0 are there.",
            ReadError(RawNpy(Header("<f4", $"({Array.MaxLength},)"), [])));
        // ... one more does not.
        Assert.Equal($"<stream> declares shape ({Array.MaxLength + 1L},), more elements than a .NET array can hold ({Array.MaxLength}).",
            ReadError(RawNpy(Header("<f4", $"({Array.MaxLength + 1L},)"), [])));
        // A zero extent empties the array even after the other extents' product overflowed.
        NpyArray empty = Npy.Read(new MemoryStream(RawNpy(Header("<f4", "(2147483647, 2147483647, 2147483647, 0)"), [])));
        Assert.Equal(new[] { int.MaxValue, int.MaxValue, int.MaxValue, 0 }, empty.Shape);
        Assert.Empty(empty.TakeFloatArray());
    }

    // ---- The header literal parser ----

    private static object? Parse(string text) => new PythonLiteralParser(text).ParseDocument();

    private static string ParseError(string text) => Assert.Throws<FormatException>(() => Parse(text)).Message;

    [Fact]
    public void Nesting_is_limited_to_32_levels_below_the_top_through_lists_and_dicts_alike()
    {
        Assert.NotNull(Parse(new string('[', 33) + new string(']', 33)));
        Assert.Equal("literal nested too deeply at character 33", ParseError(new string('[', 34) + new string(']', 34)));

        static string Dicts(int levels) => string.Concat(Enumerable.Repeat("{'a': ", levels - 1)) + "{}" + new string('}', levels - 1);
        Assert.NotNull(Parse(Dicts(33)));
        Assert.StartsWith("literal nested too deeply at character", ParseError(Dicts(34)));
        Assert.StartsWith("literal nested too deeply at character", ParseError(Dicts(200)));

        // A dict's key is one level below the dict: a dict at the deepest level may be empty but cannot hold a key.
        Assert.NotNull(Parse(new string('[', 32) + "{}" + new string(']', 32)));
        Assert.Equal("literal nested too deeply at character 33", ParseError(new string('[', 32) + "{'k': 1}" + new string(']', 32)));
    }

    [Theory]
    [InlineData("u", "unexpected character 'u' at character 0")]
    [InlineData("b", "unexpected character 'b' at character 0")]
    [InlineData("(1, u", "unexpected character 'u' at character 4")]
    [InlineData("[b", "unexpected character 'b' at character 1")]
    [InlineData("ux", "unexpected character 'u' at character 0")]
    [InlineData("'\\x41", "unterminated string at character 5")]
    [InlineData("'\\u0042", "unterminated string at character 7")]
    [InlineData("'\\x4", "bad escape in string at character 3")]
    [InlineData("Truex", "unexpected character 'T' at character 0")]
    [InlineData("False_", "unexpected character 'F' at character 0")]
    [InlineData("[None1]", "unexpected character 'N' at character 1")]
    public void Literals_cut_at_the_end_of_the_text_or_running_into_identifiers_are_refused_where_they_go_wrong(string text, string message)
    {
        Assert.Equal(message, ParseError(text));
    }

    [Fact]
    public void Keywords_and_prefixed_strings_end_at_the_text_or_a_delimiter()
    {
        Assert.Equal(false, Parse("False"));
        Assert.Null(Parse("None"));
        var list = Assert.IsType<List<object?>>(Parse("[True,None,False]"));
        Assert.Equal(new object?[] { true, null, false }, list);
        Assert.Equal("q", Parse("u'q'"));
        Assert.Equal("", Parse("b''"));
    }

    // ---- Scipy .npz: the streamed reader's checks and the choice of reader ----

    private static readonly float[] Dense =
    [
        1f, 0f, 2f, 0f,
        0f, 0f, 0f, 0f,
        0f, 3.5f, 0f, -4f,
    ];

    private static Dictionary<string, Action<Stream>> DefaultMembers() => new()
    {
        ["indices.npy"] = s => Npy.Write(s, [0, 2, 1, 3]),
        ["indptr.npy"] = s => Npy.Write(s, [0, 2, 2, 4]),
        ["format.npy"] = s => Npy.WriteScalarBytes(s, "csr"),
        ["shape.npy"] = s => Npy.Write(s, [3L, 4L]),
        ["data.npy"] = s => Npy.Write(s, [1f, 2f, 3.5f, -4f]),
    };

    private static void WriteNpz(string path, Dictionary<string, Action<Stream>> members)
    {
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        foreach (var (name, write) in members)
        {
            using Stream stream = zip.CreateEntry(name).Open();
            write(stream);
        }
    }

    private string Write(Dictionary<string, Action<Stream>> members, string file)
    {
        string path = _temp.File(file);
        WriteNpz(path, members);
        return path;
    }

    private static CsrMatrix Read(string path, long streamFrom)
    {
        using FileStream stream = File.OpenRead(path);
        return ScipyNpz.ReadCsr(stream, $"'{path}'", streamFrom);
    }

    [Fact]
    public void An_npz_file_stream_is_named_by_its_path()
    {
        var members = DefaultMembers();
        members["indptr.npy"] = s => Npy.Write(s, [0, 3, 2, 4]);
        string path = Write(members, "named.npz");
        using FileStream file = File.OpenRead(path);
        Assert.StartsWith($"'{path}' does not hold a valid CSR matrix of shape (3, 4): ", Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(file)).Message);
        using var memory = new MemoryStream(File.ReadAllBytes(path));
        Assert.StartsWith("<stream> does not hold a valid CSR matrix", Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(memory)).Message);
    }

    [Fact]
    public void A_truncated_member_names_its_bytes_needed_and_present()
    {
        var members = DefaultMembers();
        members["data.npy"] = s => s.Write(ShortArray());
        string path = Write(members, "short.npz");
        Assert.Equal($"Member 'data.npy' of '{path}' {ShortMessage}", Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path)).Message);
    }

    [Fact]
    public void The_streamed_reader_checks_indptr_before_opening_the_entries()
    {
        string Error(string file, Action<Stream> indptr, long streamFrom = 0)
        {
            var members = DefaultMembers();
            members["indptr.npy"] = indptr;
            string path = Write(members, file);
            return Assert.Throws<NpyFormatException>(() => Read(path, streamFrom)).Message;
        }
        string Prefix(string file) => $"'{_temp.File(file)}' does not hold a valid CSR matrix of shape (3, 4): ";

        Assert.Equal(Prefix("short-indptr.npz") + "indptr has 3 entries, 4 expected.", Error("short-indptr.npz", s => Npy.Write(s, [0, 2, 4])));
        Assert.Equal(Prefix("long-indptr.npz") + "indptr has 5 entries, 4 expected.", Error("long-indptr.npz", s => Npy.Write(s, [0, 2, 2, 4, 4])));
        Assert.Equal(Prefix("offset.npz") + "indptr must start at 0, got 1 at index 0.", Error("offset.npz", s => Npy.Write(s, [1, 2, 2, 4])));
        string down = Error("down.npz", s => Npy.Write(s, [0, 3, 2, 4]));
        Assert.StartsWith(Prefix("down.npz") + "indptr must not decrease", down);
        Assert.EndsWith("index 2 holds 2 after 3.", down);
    }

    [Fact]
    public void A_row_of_exactly_int_max_entries_passes_the_row_check_and_is_caught_by_the_count_check()
    {
        var members = DefaultMembers();
        members["shape.npy"] = s => Npy.Write(s, [1L, 4L]);
        members["indptr.npy"] = s => Npy.Write(s, [0L, int.MaxValue]);
        string path = Write(members, "maxrow.npz");
        Assert.Equal($"'{path}' does not hold a valid CSR matrix of shape (1, 4): indptr ends at 2147483647, but indices holds 4 and data 4 entries.",
            Assert.Throws<NpyFormatException>(() => Read(path, 0)).Message);

        members["indptr.npy"] = s => Npy.Write(s, [0L, int.MaxValue + 1L]);
        path = Write(members, "overrow.npz");
        Assert.EndsWith("index 1 holds 2147483648 after 0.", Assert.Throws<NpyFormatException>(() => Read(path, 0)).Message);
    }

    [Fact]
    public void The_streamed_reader_refuses_indices_or_data_of_another_length_than_indptr_says()
    {
        var members = DefaultMembers();
        members["data.npy"] = s => Npy.Write(s, [1f, 2f, 3.5f, -4f, 9f]);
        string path = Write(members, "longdata.npz");
        string expected = $"'{path}' does not hold a valid CSR matrix of shape (3, 4): indptr ends at 4, but indices holds 4 and data 5 entries.";
        Assert.Equal(expected, Assert.Throws<NpyFormatException>(() => Read(path, 0)).Message);
        // The longer of indices and data decides the reader: 5 entries stream from 4 on.
        Assert.Equal(expected, Assert.Throws<NpyFormatException>(() => Read(path, 4)).Message);

        members = DefaultMembers();
        members["indices.npy"] = s => Npy.Write(s, [0, 2, 1]);
        path = Write(members, "shortindices.npz");
        Assert.EndsWith("indptr ends at 4, but indices holds 3 and data 4 entries.", Assert.Throws<NpyFormatException>(() => Read(path, 0)).Message);
        Assert.EndsWith("indptr ends at 4, but indices holds 3 and data 4 entries.", Assert.Throws<NpyFormatException>(() => Read(path, 3)).Message);
    }

    [Fact]
    public void A_member_declaring_more_elements_than_an_array_holds_goes_to_the_streamed_reader()
    {
        // 3·10⁹ declared float32 elements, 16 bytes present: counted from the header, never allocated.
        var members = DefaultMembers();
        members["data.npy"] = s => s.Write(RawNpy(Header("<f4", "(3000000000,)"), Bytes(1f, 2f, 3.5f, -4f)));
        string path = Write(members, "huge.npz");
        Assert.Equal($"'{path}' does not hold a valid CSR matrix of shape (3, 4): indptr ends at 4, but indices holds 4 and data 3000000000 entries.",
            Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path)).Message);

        members = DefaultMembers();
        members["indices.npy"] = s => s.Write(RawNpy(Header("<i4", "(3000000000,)"), new byte[16]));
        path = Write(members, "hugeindices.npz");
        Assert.EndsWith("indptr ends at 4, but indices holds 3000000000 and data 4 entries.", Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path)).Message);
    }

    [Fact]
    public void Members_up_to_the_threshold_take_the_whole_array_reader()
    {
        // Both readers refuse a decreasing indptr, in their own words: the whole-array reader through CsrMatrix's
        // validation (kept as the inner exception), the streamed one by its own check.
        var members = DefaultMembers();
        members["indptr.npy"] = s => Npy.Write(s, [0, 3, 2, 4]);
        string path = Write(members, "down.npz");

        var whole = Assert.Throws<NpyFormatException>(() => Read(path, 4));
        Assert.IsAssignableFrom<ArgumentException>(whole.InnerException);
        Assert.Contains("Row pointers must not decrease", whole.Message);

        var streamed = Assert.Throws<NpyFormatException>(() => Read(path, 3));
        Assert.Null(streamed.InnerException);
        Assert.Contains("indptr must not decrease", streamed.Message);
    }

    [Fact]
    public void Shape_extents_of_exactly_int_max_are_accepted()
    {
        var members = DefaultMembers();
        members["shape.npy"] = s => Npy.Write(s, [3L, int.MaxValue]);
        string path = Write(members, "wide.npz");
        CsrMatrix matrix = ScipyNpz.ReadCsr(path);
        Assert.Equal((3, int.MaxValue), (matrix.Rows, matrix.Columns));
        Assert.Equal(new[] { 0, 2, 1, 3 }, matrix.ColumnIndices.ToArray());

        members = DefaultMembers();
        members["shape.npy"] = s => Npy.Write(s, [(long)int.MaxValue, 4L]);
        path = Write(members, "tall.npz");
        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path));
        Assert.StartsWith($"'{path}' does not hold a valid CSR matrix of shape (2147483647, 4): ", e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e.InnerException);

        members["shape.npy"] = s => Npy.Write(s, [int.MaxValue + 1L, 4L]);
        path = Write(members, "taller.npz");
        Assert.Contains("has a 'shape' member of [2147483648, 4]", Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path)).Message);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(0)]
    public void A_member_stored_both_with_and_without_the_npy_suffix_is_read_from_the_suffixed_one(long streamFrom)
    {
        var members = DefaultMembers();
        members["data"] = s => Npy.Write(s, [9f, 9f, 9f, 9f]);
        members["indices"] = s => Npy.Write(s, [3, 3, 3, 3, 3]);
        members["indptr"] = s => Npy.Write(s, [0, 0, 0, 5]);
        members["format"] = s => Npy.WriteScalarBytes(s, "coo");
        members["shape"] = s => Npy.Write(s, [9L, 9L]);
        string path = Write(members, "both.npz");
        Assert.Equal(Dense, Read(path, streamFrom).ToDense());

        // Only the bare names: those are read.
        var bare = DefaultMembers().ToDictionary(kv => kv.Key.Replace(".npy", ""), kv => kv.Value);
        path = Write(bare, "bare.npz");
        Assert.Equal(Dense, Read(path, streamFrom).ToDense());
    }

    [Fact]
    public void The_streamed_reader_refuses_a_member_that_is_not_a_vector()
    {
        var members = DefaultMembers();
        members["indices.npy"] = s => Npy.Write(s, [0, 2, 1, 3], 2, 2);
        string path = Write(members, "square.npz");
        Assert.Equal($"Member 'indices.npy' of '{path}' has shape (2, 2); a 1-D array was expected.",
            Assert.Throws<NpyFormatException>(() => Read(path, 0)).Message);
    }

    [Fact]
    public void The_streamed_reader_converts_integer_data_in_either_byte_order_and_range_checks_only_past_int32()
    {
        static Action<Stream> BigEndian(string descr, long[] values, int size) => s =>
        {
            var bytes = new byte[values.Length * size];
            for (int k = 0; k < values.Length; k++)
            {
                if (size == 4)
                {
                    BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 * k), (int)values[k]);
                }
                else
                {
                    BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(8 * k), values[k]);
                }
            }
            s.Write(RawNpy(Header(descr, $"({values.Length},)"), bytes));
        };
        float[] expected = [1f, 0f, 2f, 0f, 0f, 0f, 0f, 0f, 0f, 3f, 0f, -4f];
        foreach (Action<Stream> data in new Action<Stream>[]
        {
            s => Npy.Write(s, [1, 2, 3, -4]),
            s => Npy.Write(s, [1L, 2L, 3L, -4L]),
            BigEndian(">i4", [1, 2, 3, -4], 4),
            BigEndian(">i8", [1, 2, 3, -4], 8),
        })
        {
            var members = DefaultMembers();
            members["data.npy"] = data;
            string path = Write(members, "intdata.npz");
            Assert.Equal(expected, Read(path, 0).ToDense());
            Assert.Equal(expected, Read(path, int.MaxValue).ToDense());
        }

        // int32's own extremes convert (and are then refused as columns by the matrix, not as out of range).
        foreach (long edge in new[] { (long)int.MinValue, int.MaxValue })
        {
            var members = DefaultMembers();
            members["indices.npy"] = s => Npy.Write(s, [0L, edge, 1L, 3L]);
            string path = Write(members, "edge.npz");
            var e = Assert.Throws<NpyFormatException>(() => Read(path, 0));
            Assert.IsAssignableFrom<ArgumentException>(e.InnerException);
            Assert.DoesNotContain("int32 range", e.Message);
        }
    }

    [Fact]
    public void The_writer_keeps_int32_indices_up_to_its_threshold()
    {
        var matrix = new CsrMatrix(3, 4, [0, 2, 2, 4], [0, 2, 1, 3], [1f, 2f, 3.5f, -4f]);
        foreach (var (int32Up, type) in new[] { (4L, NpyDataType.Int32), (3L, NpyDataType.Int64) })
        {
            var buffer = new MemoryStream();
            ScipyNpz.WriteCsr(buffer, matrix, compressed: false, int32Up);
            using var zip = new ZipArchive(new MemoryStream(buffer.ToArray()), ZipArchiveMode.Read);
            foreach (string member in new[] { "indices.npy", "indptr.npy" })
            {
                using Stream stream = zip.GetEntry(member)!.Open();
                Assert.Equal(type, Npy.Read(stream).DataType);
            }
            Assert.Equal(Dense, ScipyNpz.ReadCsr(new MemoryStream(buffer.ToArray())).ToDense());
        }
    }

    // ---- The streamed vector's 1 MiB buffer ----

    [Theory]
    [InlineData(1, false)]
    [InlineData((1 << 18) - 1, false)]
    [InlineData(1 << 18, false)]
    [InlineData((1 << 18) + 1, false)]
    [InlineData(3 * (1 << 18) + 5, false)]
    [InlineData(1, true)]
    [InlineData((1 << 17) + 1, true)]
    [InlineData(3 * (1 << 17) + 5, true)]
    public void The_streamed_vector_reads_every_element_across_buffer_refills(int count, bool wide)
    {
        // 4- or 8-byte elements around multiples of the 1 MiB buffer (2¹⁸ int32, 2¹⁷ int64), read in uneven pieces.
        var stream = new MemoryStream();
        var expected = new int[count];
        for (int k = 0; k < count; k++)
        {
            expected[k] = (int)(k * 2654435761u);
        }
        if (wide)
        {
            Npy.Write(stream, expected.Select(v => (long)v).ToArray());
        }
        else
        {
            Npy.Write(stream, expected);
        }
        stream.Position = 0;
        var vector = new StreamedVector(new NonSeekableStream(stream), "v", integer: true);
        Assert.Equal(count, vector.Count);
        var actual = new int[count];
        int[] pieces = [1, 7, 1000, 65_537, 3, 262_139];
        for (int at = 0, p = 0; at < count; p++)
        {
            int n = Math.Min(pieces[p % pieces.Length], count - at);
            vector.ReadInt32(actual.AsSpan(at, n));
            at += n;
        }
        Assert.Equal(expected, actual);
        Assert.Equal("v holds " + count + " elements; more were asked for.", Assert.Throws<NpyFormatException>(() => vector.ReadInt32(new int[1])).Message);
    }

    [Fact]
    public void The_streamed_vector_reports_a_truncated_member_with_its_byte_counts()
    {
        byte[] bytes = RawNpy(Header("<f4", "(5,)"), Bytes(1f, 2f, 3f).Concat(new byte[] { 9 }).ToArray());
        var vector = new StreamedVector(new MemoryStream(bytes), "v", integer: false);
        var values = new float[3];
        vector.ReadFloat(values);
        Assert.Equal(new[] { 1f, 2f, 3f }, values);
        Assert.Equal("v is truncated: its 5 elements need 20 bytes of data after the header, but only 13 are there.",
            Assert.Throws<NpyFormatException>(() => vector.ReadFloat(new float[1])).Message);
    }

    [Fact]
    public void A_matrix_of_several_mebibytes_reads_the_same_through_the_streamed_reader()
    {
        // 300,000 entries: indices and data span several 1 MiB buffers (more with int64 indices), rows cross their edges.
        const int rows = 600, columns = 1000;
        var pointers = new int[rows + 1];
        var indices = new List<int>();
        var values = new List<float>();
        for (int r = 0; r < rows; r++)
        {
            for (int c = r % 3; c < columns; c += 1 + (r % 5 == 0 ? 0 : 1))
            {
                indices.Add(c);
                values.Add(r * 0.25f - c);
            }
            pointers[r + 1] = indices.Count;
        }
        var matrix = new CsrMatrix(rows, columns, pointers, indices.ToArray(), values.ToArray());
        Assert.True(matrix.NonZeros > 1 << 18);
        foreach (long int32Up in new[] { int.MaxValue, -1L })
        {
            var buffer = new MemoryStream();
            ScipyNpz.WriteCsr(buffer, matrix, compressed: true, int32Up);
            CsrMatrix streamed = ScipyNpz.ReadCsr(new MemoryStream(buffer.ToArray()), "big", streamFrom: 0);
            Assert.Equal(matrix.RowPointers.ToArray(), streamed.RowPointers.ToArray());
            Assert.Equal(matrix.ColumnIndices.ToArray(), streamed.ColumnIndices.ToArray());
            Bits.AssertBitsEqual(matrix.Values.ToArray(), streamed.Values.ToArray(), "values");
        }
    }

    // ---- InteractionTable: header detection and quotes ----

    private InteractionTable ReadText(string text, string name) => ReadInteractions(_temp, text, name);

    [Theory]
    [InlineData("12,item\n0,1\n2,3\n")]
    [InlineData("user,7\n0,1\n2,3\n")]
    [InlineData("user,item,rating\n0,1,4.5\n2,3,5\n")]
    public void A_csv_first_line_whose_user_or_item_is_not_an_integer_is_a_header(string text)
    {
        InteractionTable table = ReadText(text, "pairs.csv");
        Assert.Equal([0, 2], table.UserIds.ToArray());
        Assert.Equal([1, 3], table.ItemIds.ToArray());
    }

    [Theory]
    [InlineData("0,1,4.5\n2,3,5\n")]
    [InlineData("0,1,\n2,3,\n")]
    [InlineData("0,1,note\n2,3,other\n")]
    public void A_csv_first_line_of_integer_ids_is_data_whatever_its_extra_columns_hold(string text)
    {
        // Extra columns are ignored, so they do not make the first line a header.
        InteractionTable table = ReadText(text, "rated.csv");
        Assert.Equal([0, 2], table.UserIds.ToArray());
        Assert.Equal([1, 3], table.ItemIds.ToArray());
    }

    [Fact]
    public void Double_quotes_are_ordinary_characters()
    {
        // An unbalanced quote in one field must not swallow the separators and line ends after it.
        InteractionTable table = ReadText("userID\titemID\ttitle\tx_label\n0\t1\t\"Stop\t0\n2\t3\tsay \"hi\"\t2\n4\t5\t\"\t1\n", "q.inter");
        Assert.Equal([0, 2, 4], table.UserIds.ToArray());
        Assert.Equal([1, 3, 5], table.ItemIds.ToArray());
        Assert.Equal([InteractionSplit.Train, InteractionSplit.Test, InteractionSplit.Validation], table.Splits.ToArray());

        table = ReadText("user,item\n0,1,\"x\n2,3\n4,5,\"\n", "q.csv");
        Assert.Equal([0, 2, 4], table.UserIds.ToArray());
        Assert.Equal([1, 3, 5], table.ItemIds.ToArray());
    }

    [Fact]
    public void Element_types_are_named_as_numpy_names_them_and_the_default_message_says_what_failed()
    {
        var int32 = new MemoryStream();
        Npy.Write(int32, [1, 2], 2);
        var int64 = new MemoryStream();
        Npy.Write(int64, [1L, 2L], 1, 2);
        var float32 = new MemoryStream();
        Npy.Write(float32, [1f, 2f], 2);
        var float64 = new MemoryStream();
        Npy.Write(float64, [1.0]);
        Assert.Equal("NpyArray(int32, shape (2,))", Read(int32).ToString());
        Assert.Equal("NpyArray(int64, shape (1, 2))", Read(int64).ToString());
        Assert.Equal("NpyArray(float32, shape (2,))", Read(float32).ToString());
        Assert.Equal("NpyArray(float64, shape (1,))", Read(float64).ToString());
        Assert.Equal("The data is not a .npy or .npz file this library can read.", new NpyFormatException().Message);

        static NpyArray Read(MemoryStream written)
        {
            written.Position = 0;
            return Npy.Read(written);
        }
    }
}
