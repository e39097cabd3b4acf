// The scipy .npz reader and writer: archives written by scipy.sparse.save_npz (compressed and
// stored, int32 and int64 indices, float32 and float64 data, CSR and CSC), round trips, the
// exact member layout scipy expects, and archives that are broken or hold other formats.
// Expected values mirror Fixtures/make_fixtures.py.
using System.IO.Compression;
using System.Text;
using Stair.Kernels.IO;
using Stair.Kernels.Tests.Infrastructure;
using static Stair.Kernels.Tests.IO.IoTestSupport;

namespace Stair.Kernels.Tests.IO;

public sealed class NpzTests : IDisposable
{
    // The 3 x 4 fixture matrix, with an empty middle row.
    private static readonly float[] Dense =
    [
        1f, 0f, 2f, 0f,
        0f, 0f, 0f, 0f,
        0f, 3.5f, 0f, -4f,
    ];

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("csr_compressed.npz")]
    [InlineData("csr_uncompressed.npz")]
    [InlineData("csr_int64_f64.npz")]
    [InlineData("csr_unicode_format.npz")]
    [InlineData("csc.npz")]
    public void Reads_matrices_saved_by_scipy(string name)
    {
        CsrMatrix m = ScipyNpz.ReadCsr(Fixture(name));

        Assert.Equal((3, 4), (m.Rows, m.Columns));
        Assert.Equal([0, 2, 2, 4], m.RowPointers.ToArray());
        Assert.Equal([0, 2, 1, 3], m.ColumnIndices.ToArray());
        Assert.Equal([1f, 2f, 3.5f, -4f], m.Values.ToArray());
        Assert.Equal(Dense, m.ToDense());
    }

    [Fact]
    public void Reads_from_a_stream_that_cannot_seek()
    {
        using var stream = new NonSeekableStream(File.OpenRead(Fixture("csr_compressed.npz")));

        CsrMatrix m = ScipyNpz.ReadCsr(stream);

        Assert.Equal(Dense, m.ToDense());
    }

    [Fact]
    public void Refuses_other_sparse_formats()
    {
        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(Fixture("coo.npz")));
        Assert.Contains("coo.npz", e.Message);
        Assert.Contains("'coo'", e.Message);
        Assert.Contains("only CSR", e.Message);
    }

    [Fact]
    public void Refuses_an_invalid_csr_structure_naming_the_file()
    {
        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(Fixture("csr_bad_indptr.npz")));
        Assert.Contains("csr_bad_indptr.npz", e.Message);
        Assert.Contains("must not decrease", e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e.InnerException);
    }

    public static TheoryData<string, bool> MatricesAndCompression()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in (string[])["fixture", "powerlaw", "rectangular", "empty", "zero-by-zero", "no-columns"])
        {
            data.Add(name, true);
            data.Add(name, false);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(MatricesAndCompression))]
    public void Round_trips_through_a_file(string name, bool compressed)
    {
        CsrMatrix m = Matrix(name);
        string path = _temp.File($"{name}.npz");

        ScipyNpz.WriteCsr(path, m, compressed);
        CsrMatrix back = ScipyNpz.ReadCsr(path);

        AssertSame(m, back);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Round_trips_through_a_stream(bool compressed)
    {
        CsrMatrix m = Matrix("powerlaw");
        var stream = new MemoryStream();

        ScipyNpz.WriteCsr(stream, m, compressed);
        Assert.True(stream.CanWrite); // left open
        stream.Position = 0;
        CsrMatrix back = ScipyNpz.ReadCsr(stream);

        AssertSame(m, back);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Writes_the_members_scipy_writes(bool compressed)
    {
        var stream = new MemoryStream();
        ScipyNpz.WriteCsr(stream, Matrix("fixture"), compressed);
        stream.Position = 0;
        using var zip = new ZipArchive(stream, ZipArchiveMode.Read);

        Assert.Equal(["indices.npy", "indptr.npy", "format.npy", "shape.npy", "data.npy"], zip.Entries.Select(e => e.FullName));
        foreach (ZipArchiveEntry entry in zip.Entries)
        {
            // Stored members keep their size; every member here compresses at least a little.
            Assert.Equal(compressed, entry.CompressedLength < entry.Length);
        }

        Assert.Equal([0, 2, 1, 3], Member(zip, "indices").ToInt32Array());
        Assert.Equal(NpyDataType.Int32, Member(zip, "indices").DataType);
        Assert.Equal([0, 2, 2, 4], Member(zip, "indptr").ToInt32Array());
        Assert.Equal(NpyDataType.Int32, Member(zip, "indptr").DataType);
        Assert.Equal(NpyDataType.Int64, Member(zip, "shape").DataType);
        Assert.Equal([3L, 4L], Member(zip, "shape").ToInt64Array());
        Assert.Equal(NpyDataType.Float32, Member(zip, "data").DataType);
        Assert.Equal([1f, 2f, 3.5f, -4f], Member(zip, "data").ToFloatArray());

        // format is a 0-d byte string b'csr', as save_npz writes it.
        using Stream format = zip.GetEntry("format.npy")!.Open();
        string text = Encoding.Latin1.GetString(ReadAll(format));
        Assert.Contains("{'descr': '|S3', 'fortran_order': False, 'shape': (), }", text);
        Assert.EndsWith("\ncsr", text);
    }

    [Fact]
    public void Writes_the_same_bytes_every_time()
    {
        var first = new MemoryStream();
        var second = new MemoryStream();

        ScipyNpz.WriteCsr(first, Matrix("powerlaw"));
        ScipyNpz.WriteCsr(second, Matrix("powerlaw"));

        Assert.Equal(first.ToArray(), second.ToArray());
    }

    [Theory]
    [InlineData("indices")]
    [InlineData("indptr")]
    [InlineData("format")]
    [InlineData("shape")]
    [InlineData("data")]
    public void Refuses_an_archive_missing_a_member(string missing)
    {
        string path = _temp.File($"no_{missing}.npz");
        WriteNpz(path, DefaultMembers(except: missing));

        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path));
        Assert.Contains($"no_{missing}.npz", e.Message);
        Assert.Contains($"'{missing}.npy'", e.Message);
    }

    [Fact]
    public void Accepts_members_named_without_the_npy_extension_and_ignores_extras()
    {
        var members = DefaultMembers().ToDictionary(kv => kv.Key.Replace(".npy", ""), kv => kv.Value);
        members["_is_array.npy"] = s => Npy.Write(s, [1]);
        string path = _temp.File("bare.npz");
        WriteNpz(path, members);

        Assert.Equal(Dense, ScipyNpz.ReadCsr(path).ToDense());
    }

    [Fact]
    public void Refuses_a_file_that_is_not_a_zip()
    {
        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(Fixture("f32_2x3.npy")));
        Assert.Contains("f32_2x3.npy", e.Message);
        Assert.Contains("zip", e.Message);
    }

    [Fact]
    public void Refuses_a_zip_whose_central_directory_disagrees_with_its_end_record()
    {
        // Found by fuzzing (scripts/fuzz.sh npz): the entry count in the end-of-central-directory record is
        // checked only when the directory is first read, which used to escape as InvalidDataException.
        var stream = new MemoryStream();
        ScipyNpz.WriteCsr(stream, new CsrMatrix(2, 3, [0, 2, 3], [0, 2, 1], [1f, -0.5f, 2f]), compressed: false);
        byte[] bytes = stream.ToArray();
        int end = bytes.Length - 22; // the end record (no archive comment): entries at +8 (this disk) and +10 (total)
        Assert.Equal(0x06054b50, BitConverter.ToInt32(bytes, end));
        bytes[end + 8] = bytes[end + 10] = 4;

        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(new MemoryStream(bytes)));
        Assert.Contains("zip", e.Message);
        Assert.IsType<InvalidDataException>(e.InnerException);
    }

    [Fact]
    public void Refuses_int64_indices_outside_int32_naming_the_member()
    {
        var members = DefaultMembers();
        members["indices.npy"] = s => Npy.Write(s, [0L, 1L << 40, 1, 3]);
        string path = _temp.File("wide.npz");
        WriteNpz(path, members);

        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path));
        Assert.Contains("'indices.npy'", e.Message);
        Assert.Contains("wide.npz", e.Message);
        Assert.Contains("Element 1", e.Message);
    }

    [Fact]
    public void Refuses_float64_data_outside_float32()
    {
        var members = DefaultMembers();
        members["data.npy"] = s => Npy.Write(s, [1.0, 2.0, 1e300, -4.0]);
        string path = _temp.File("huge.npz");
        WriteNpz(path, members);

        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path));
        Assert.Contains("'data.npy'", e.Message);
        Assert.Contains("Element 2", e.Message);
    }

    [Theory]
    [InlineData("shape.npy", "two extents")]
    [InlineData("indptr.npy", "int32 or int64")]
    [InlineData("indices.npy", "1-D")]
    [InlineData("data.npy", "'<f2'")]
    [InlineData("format.npy", "a string was expected")]
    public void Refuses_members_of_the_wrong_kind(string member, string expected)
    {
        var members = DefaultMembers();
        members[member] = member switch
        {
            "shape.npy" => s => Npy.Write(s, [3L, 4L, 5L]),
            "indptr.npy" => s => Npy.Write(s, [0f, 2f, 2f, 4f]),
            "indices.npy" => s => Npy.Write(s, [0, 2, 1, 3], 2, 2),
            "data.npy" => s => s.Write(File.ReadAllBytes(Fixture("f16.npy"))),
            _ => s => Npy.Write(s, [1]),
        };
        string path = _temp.File("wrong.npz");
        WriteNpz(path, members);

        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path));
        Assert.Contains("wrong.npz", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Refuses_column_indices_outside_the_shape()
    {
        var members = DefaultMembers();
        members["indices.npy"] = s => Npy.Write(s, [0, 2, 1, 4]);
        string path = _temp.File("outside.npz");
        WriteNpz(path, members);

        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path));
        Assert.Contains("outside.npz", e.Message);
        Assert.Contains("outside [0, 4)", e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e.InnerException);
    }

    [Fact]
    public void Refuses_a_truncated_member()
    {
        var buffer = new MemoryStream();
        Npy.Write(buffer, [1f, 2f, 3.5f, -4f]);
        byte[] data = buffer.ToArray();
        var members = DefaultMembers();
        members["data.npy"] = s => s.Write(data, 0, data.Length - 3);
        string path = _temp.File("cut.npz");
        WriteNpz(path, members);

        var e = Assert.Throws<NpyFormatException>(() => ScipyNpz.ReadCsr(path));
        Assert.Contains("'data.npy'", e.Message);
        Assert.Contains("truncated", e.Message);
    }

    // Past 2³¹ entries the reader streams indices and data row by row into the matrix and the writer
    // switches to int64 indices and indptr; both paths are forced here on small matrices.
    [Theory]
    [InlineData("csr_compressed.npz")]
    [InlineData("csr_uncompressed.npz")]
    [InlineData("csr_int64_f64.npz")]
    [InlineData("csc.npz")]
    public void The_streamed_reader_reads_scipys_files_like_the_whole_array_reader(string name)
    {
        CsrMatrix whole = ScipyNpz.ReadCsr(Fixture(name));
        using FileStream file = File.OpenRead(Fixture(name));
        CsrMatrix streamed = ScipyNpz.ReadCsr(file, name, streamFrom: 0);
        AssertSame(whole, streamed);
    }

    [Theory]
    [MemberData(nameof(MatricesAndCompression))]
    public void Int64_members_round_trip_through_both_readers(string name, bool compressed)
    {
        CsrMatrix original = Matrix(name);
        var buffer = new MemoryStream();
        ScipyNpz.WriteCsr(buffer, original, compressed, int32Up: -1);
        using (var zip = new ZipArchive(new MemoryStream(buffer.ToArray()), ZipArchiveMode.Read))
        {
            Assert.Equal(NpyDataType.Int64, Member(zip, "indices").DataType);
            Assert.Equal(NpyDataType.Int64, Member(zip, "indptr").DataType);
            Assert.Equal(original.RowOffsets.ToArray(), Member(zip, "indptr").ToInt64Array());
            Assert.Equal(NpyDataType.Float32, Member(zip, "data").DataType);
        }
        AssertSame(original, ScipyNpz.ReadCsr(new MemoryStream(buffer.ToArray())));
        AssertSame(original, ScipyNpz.ReadCsr(new MemoryStream(buffer.ToArray()), "int64", streamFrom: 0));
    }

    [Fact]
    public void The_streamed_reader_refuses_what_the_whole_array_reader_refuses()
    {
        CsrMatrix Streamed(Dictionary<string, Action<Stream>> members, string file)
        {
            string path = _temp.File(file);
            WriteNpz(path, members);
            using FileStream stream = File.OpenRead(path);
            return ScipyNpz.ReadCsr(stream, $"'{path}'", streamFrom: 0);
        }

        var members = DefaultMembers();
        members["indices.npy"] = s => Npy.Write(s, [0L, 1L << 40, 1, 3]);
        var e = Assert.Throws<NpyFormatException>(() => Streamed(members, "wide.npz"));
        Assert.Contains("'indices.npy'", e.Message);
        Assert.Contains("Element 1", e.Message);

        members = DefaultMembers();
        members["data.npy"] = s => Npy.Write(s, [1.0, 2.0, 1e300, -4.0]);
        e = Assert.Throws<NpyFormatException>(() => Streamed(members, "huge.npz"));
        Assert.Contains("Element 2", e.Message);

        members = DefaultMembers();
        members["indices.npy"] = s => Npy.Write(s, [0, 2, 1, 4]);
        e = Assert.Throws<NpyFormatException>(() => Streamed(members, "outside.npz"));
        Assert.Contains("outside.npz", e.Message);
        Assert.Contains("outside [0, 4)", e.Message);
        Assert.IsAssignableFrom<ArgumentException>(e.InnerException);

        members = DefaultMembers();
        members["indptr.npy"] = s => Npy.Write(s, [0L, 3, 2, 4]);
        e = Assert.Throws<NpyFormatException>(() => Streamed(members, "down.npz"));
        Assert.Contains("must not decrease", e.Message);
        Assert.Contains("index 2", e.Message);

        members = DefaultMembers();
        members["indptr.npy"] = s => Npy.Write(s, [0L, 2, 2, 5]);
        e = Assert.Throws<NpyFormatException>(() => Streamed(members, "long.npz"));
        Assert.Contains("indptr ends at 5", e.Message);

        var cut = new MemoryStream();
        Npy.Write(cut, [1f, 2f, 3.5f, -4f]);
        byte[] data = cut.ToArray();
        members = DefaultMembers();
        members["data.npy"] = s => s.Write(data, 0, data.Length - 3);
        e = Assert.Throws<NpyFormatException>(() => Streamed(members, "cut.npz"));
        Assert.Contains("'data.npy'", e.Message);
        Assert.Contains("truncated", e.Message);

        members = DefaultMembers();
        members["indices.npy"] = s => Npy.Write(s, [0f, 2f, 1f, 3f]);
        e = Assert.Throws<NpyFormatException>(() => Streamed(members, "kind.npz"));
        Assert.Contains("int32 or int64", e.Message);
    }

    private static CsrMatrix Matrix(string name) => name switch
    {
        "fixture" => new CsrMatrix(3, 4, [0, 2, 2, 4], [0, 2, 1, 3], [1f, 2f, 3.5f, -4f]),
        "powerlaw" => TestGraphs.RandomPowerLaw(rows: 57, columns: 57, seed: 9),
        "rectangular" => TestGraphs.RandomPowerLaw(rows: 13, columns: 40, seed: 4),
        "empty" => new CsrMatrix(4, 6, new int[5], [], []),
        "zero-by-zero" => new CsrMatrix(0, 0, [0], [], []),
        "no-columns" => new CsrMatrix(3, 0, new int[4], [], []),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    private static void AssertSame(CsrMatrix expected, CsrMatrix actual)
    {
        Assert.Equal((expected.Rows, expected.Columns), (actual.Rows, actual.Columns));
        Assert.Equal(expected.RowPointers.ToArray(), actual.RowPointers.ToArray());
        Assert.Equal(expected.ColumnIndices.ToArray(), actual.ColumnIndices.ToArray());
        Bits.AssertBitsEqual(expected.Values.ToArray(), actual.Values.ToArray(), "values");
    }

    private static NpyArray Member(ZipArchive zip, string name)
    {
        using Stream stream = zip.GetEntry(name + ".npy")!.Open();
        return Npy.Read(stream);
    }

    private static byte[] ReadAll(Stream stream)
    {
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    // The fixture matrix's members, as save_npz writes them, to break one at a time.
    // A 1-D big-endian member: numpy writes '>' dtypes on request (arr.astype('>i4')), and both readers swap them.
    private static Action<Stream> BigEndian<T>(string descr, T[] values, Action<Span<byte>, T> write, int size)
        => s =>
        {
            var data = new byte[values.Length * size];
            for (int k = 0; k < values.Length; k++)
            {
                write(data.AsSpan(k * size, size), values[k]);
            }
            s.Write(RawNpy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({values.Length},), }}", data));
        };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Big_endian_members_read_like_little_endian_ones_through_both_readers(bool wide)
    {
        var members = DefaultMembers();
        if (wide)
        {
            members["indices.npy"] = BigEndian(">i8", [0L, 2L, 1L, 3L], System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian, 8);
            members["indptr.npy"] = BigEndian(">i8", [0L, 2L, 2L, 4L], System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian, 8);
            members["data.npy"] = BigEndian(">f8", [1.0, 2.0, 3.5, -4.0], System.Buffers.Binary.BinaryPrimitives.WriteDoubleBigEndian, 8);
        }
        else
        {
            members["indices.npy"] = BigEndian(">i4", [0, 2, 1, 3], System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian, 4);
            members["indptr.npy"] = BigEndian(">i4", [0, 2, 2, 4], System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian, 4);
            members["data.npy"] = BigEndian(">f4", [1f, 2f, 3.5f, -4f], System.Buffers.Binary.BinaryPrimitives.WriteSingleBigEndian, 4);
        }
        string path = _temp.File(wide ? "big64.npz" : "big32.npz");
        WriteNpz(path, members);
        Assert.Equal(Dense, ScipyNpz.ReadCsr(path).ToDense());
        using FileStream stream = File.OpenRead(path);
        Assert.Equal(Dense, ScipyNpz.ReadCsr(stream, path, streamFrom: 0).ToDense());
    }

    private static Dictionary<string, Action<Stream>> DefaultMembers(string? except = null)
    {
        var members = new Dictionary<string, Action<Stream>>
        {
            ["indices.npy"] = s => Npy.Write(s, [0, 2, 1, 3]),
            ["indptr.npy"] = s => Npy.Write(s, [0, 2, 2, 4]),
            ["format.npy"] = s => Npy.WriteScalarBytes(s, "csr"),
            ["shape.npy"] = s => Npy.Write(s, [3L, 4L]),
            ["data.npy"] = s => Npy.Write(s, [1f, 2f, 3.5f, -4f]),
        };
        if (except is not null)
        {
            members.Remove(except + ".npy");
        }
        return members;
    }

    private static void WriteNpz(string path, Dictionary<string, Action<Stream>> members)
    {
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        foreach (var (name, write) in members)
        {
            using Stream stream = zip.CreateEntry(name).Open();
            write(stream);
        }
    }
}
