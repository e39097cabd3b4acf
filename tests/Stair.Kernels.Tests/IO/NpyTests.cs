// The .npy reader and writer: files written by numpy itself (every supported dtype, 0-D to
// 3-D, big-endian, header versions 1.0/2.0/3.0), round trips, and every way a file can be
// bad or unsupported. Expected values mirror Fixtures/make_fixtures.py.
using System.Text;
using Stair.Kernels.IO;
using static Stair.Kernels.Tests.IO.IoTestSupport;

namespace Stair.Kernels.Tests.IO;

public sealed class NpyTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    // ---- Files written by numpy ----

    [Fact]
    public void Reads_numpy_float32_matrix()
    {
        NpyArray a = Npy.Read(Fixture("f32_2x3.npy"));

        Assert.Equal(NpyDataType.Float32, a.DataType);
        Assert.Equal([2, 3], a.Shape);
        Assert.Equal(2, a.Rank);
        Assert.Equal(6, a.Length);
        Assert.Equal([1.5f, -2.25f, 3f, 0f, 0.125f, 65504f], a.AsSpan<float>().ToArray());
        Assert.Equal([1.5, -2.25, 3, 0, 0.125, 65504], a.ToDoubleArray());
        Assert.Equal("NpyArray(float32, shape (2, 3))", a.ToString());
    }

    [Fact]
    public void Reads_numpy_float64_vector_and_rounds_to_float32()
    {
        NpyArray a = Npy.Read(Fixture("f64_1d.npy"));

        Assert.Equal(NpyDataType.Float64, a.DataType);
        Assert.Equal([4], a.Shape);
        Assert.Equal([0.1, -2.5, 1e10, 3.0], a.AsSpan<double>().ToArray());
        Assert.Equal([(float)0.1, -2.5f, 1e10f, 3f], a.ToFloatArray());
    }

    [Fact]
    public void Reads_numpy_int32_matrix()
    {
        NpyArray a = Npy.Read(Fixture("i32_3x2.npy"));

        Assert.Equal(NpyDataType.Int32, a.DataType);
        Assert.Equal([3, 2], a.Shape);
        int[] expected = [1, -2, 3, int.MaxValue, int.MinValue, 0];
        Assert.Equal(expected, a.ToInt32Array());
        Assert.Equal(Array.ConvertAll(expected, v => (long)v), a.ToInt64Array());
        Assert.Equal(Array.ConvertAll(expected, v => (double)v), a.ToDoubleArray());
        Assert.Equal(Array.ConvertAll(expected, v => (float)v), a.ToFloatArray());
    }

    [Fact]
    public void Reads_numpy_int64_vector_and_range_checks_int32_conversion()
    {
        NpyArray a = Npy.Read(Fixture("i64_1d.npy"));

        Assert.Equal(NpyDataType.Int64, a.DataType);
        Assert.Equal([0L, -1L, 1L << 40, 5L], a.ToInt64Array());
        Assert.Equal([0.0, -1.0, 1099511627776.0, 5.0], a.ToDoubleArray());
        var e = Assert.Throws<OverflowException>(() => a.ToInt32Array());
        Assert.Contains("Element 2", e.Message);
        Assert.Contains("1099511627776", e.Message);
    }

    [Fact]
    public void Reads_numpy_int64_three_dimensional()
    {
        NpyArray a = Npy.Read(Fixture("i64_2x2x2.npy"));

        Assert.Equal([2, 2, 2], a.Shape);
        Assert.Equal([-3, -2, -1, 0, 1, 2, 3, 4], a.ToInt32Array());
    }

    [Fact]
    public void Reads_numpy_empty_matrix()
    {
        NpyArray a = Npy.Read(Fixture("f32_0x3.npy"));

        Assert.Equal([0, 3], a.Shape);
        Assert.Equal(0, a.Length);
        Assert.Empty(a.ToFloatArray());
    }

    [Fact]
    public void Reads_numpy_scalar()
    {
        NpyArray a = Npy.Read(Fixture("f64_scalar.npy"));

        Assert.Equal(0, a.Rank);
        Assert.Empty(a.Shape);
        Assert.Equal(1, a.Length);
        Assert.Equal([2.5], a.ToDoubleArray());
        Assert.Equal("NpyArray(float64, shape ())", a.ToString());
    }

    [Fact]
    public void Reads_numpy_big_endian_by_swapping()
    {
        NpyArray f = Npy.Read(Fixture("f8_be.npy"));
        NpyArray i = Npy.Read(Fixture("i4_be.npy"));

        Assert.Equal(NpyDataType.Float64, f.DataType);
        Assert.Equal([1.0, -2.0, 3.5], f.ToDoubleArray());
        Assert.Equal(NpyDataType.Int32, i.DataType);
        Assert.Equal([1, -2, 65536], i.ToInt32Array());
    }

    [Theory]
    [InlineData("f32_v2.npy")]
    [InlineData("f32_v3.npy")]
    public void Reads_numpy_header_versions_2_and_3(string name)
    {
        NpyArray a = Npy.Read(Fixture(name));

        Assert.Equal([2, 2], a.Shape);
        Assert.Equal([1f, 2f, 3f, 4f], a.ToFloatArray());
    }

    [Fact]
    public void ReadMatrix_returns_rows_and_columns()
    {
        float[] m = Npy.ReadMatrix(Fixture("f32_2x3.npy"), out int rows, out int columns);

        Assert.Equal((2, 3), (rows, columns));
        Assert.Equal([1.5f, -2.25f, 3f, 0f, 0.125f, 65504f], m);
    }

    [Fact]
    public void ReadMatrix_converts_float64()
    {
        using FileStream stream = File.OpenRead(Fixture("f64_2x2.npy"));
        float[] m = Npy.ReadMatrix(stream, out int rows, out int columns);

        Assert.Equal((2, 2), (rows, columns));
        Assert.Equal([(float)0.1, (float)-0.2, (float)1e-3, 7f], m);
    }

    [Fact]
    public void ReadMatrix_refuses_other_ranks()
    {
        var e = Assert.Throws<NpyFormatException>(() => Npy.ReadMatrix(Fixture("f64_1d.npy"), out _, out _));
        Assert.Contains("f64_1d.npy", e.Message);
        Assert.Contains("2-D", e.Message);
    }

    [Fact]
    public void ReadMatrix_reports_float32_overflow()
    {
        var stream = new MemoryStream();
        Npy.Write(stream, [1.0, 1e300], 1, 2);
        stream.Position = 0;

        var e = Assert.Throws<NpyFormatException>(() => Npy.ReadMatrix(stream, out _, out _));
        Assert.Contains("Element 1", e.Message);
    }

    [Fact]
    public void Float64_to_float32_keeps_nan_and_infinity_but_rejects_finite_overflow()
    {
        NpyArray special = RoundTrip(s => Npy.Write(s, [double.NaN, double.PositiveInfinity, -1e-300]));
        float[] f = special.ToFloatArray();
        Assert.True(float.IsNaN(f[0]));
        Assert.Equal(float.PositiveInfinity, f[1]);
        Assert.Equal(-0f, f[2]);

        NpyArray big = RoundTrip(s => Npy.Write(s, [0.0, -1e39]));
        var e = Assert.Throws<OverflowException>(() => big.ToFloatArray());
        Assert.Contains("Element 1", e.Message);
    }

    [Fact]
    public void Typed_views_check_the_element_type()
    {
        NpyArray a = Npy.Read(Fixture("f32_2x3.npy"));

        Assert.Throws<InvalidOperationException>(() => a.AsSpan<double>().Length);
        var e = Assert.Throws<InvalidOperationException>(() => a.ToInt32Array());
        Assert.Contains("float32", e.Message);
        Assert.Throws<InvalidOperationException>(() => a.ToInt64Array());
    }

    [Fact]
    public void Conversions_return_copies()
    {
        NpyArray a = Npy.Read(Fixture("f32_2x3.npy"));
        float[] first = a.ToFloatArray();
        first[0] = 99f;

        Assert.Equal(1.5f, a.ToFloatArray()[0]);
    }

    // ---- Writing ----

    public static TheoryData<NpyDataType, int[]> DataTypesAndShapes()
    {
        var data = new TheoryData<NpyDataType, int[]>();
        int[][] shapes = [[], [0], [1], [5], [2, 3], [0, 3], [3, 0], [2, 3, 4], [1, 1, 1, 2]];
        foreach (NpyDataType type in Enum.GetValues<NpyDataType>())
        {
            foreach (int[] shape in shapes)
            {
                data.Add(type, shape);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(DataTypesAndShapes))]
    public void Round_trips_every_dtype_and_shape_through_a_file(NpyDataType type, int[] shape)
    {
        // An omitted shape means "1-D"; use 7 elements for it.
        int length = shape.Length == 0 ? 7 : shape.Aggregate(1, (p, n) => p * n);
        int[] expectedShape = shape.Length == 0 ? [length] : shape;
        string path = _temp.File($"{type}_{string.Join("x", shape)}.npy");
        long[] source = Enumerable.Range(0, length).Select(k => (long)((k * 7919) % 1000) - 500).ToArray();

        switch (type)
        {
            case NpyDataType.Float32:
                Npy.Write(path, source.Select(v => v * 0.25f).ToArray(), shape);
                break;
            case NpyDataType.Float64:
                Npy.Write(path, source.Select(v => v * 0.1).ToArray(), shape);
                break;
            case NpyDataType.Int32:
                Npy.Write(path, source.Select(v => (int)v * 1000).ToArray(), shape);
                break;
            default:
                Npy.Write(path, source.Select(v => v << 33).ToArray(), shape);
                break;
        }

        NpyArray a = Npy.Read(path);
        Assert.Equal(type, a.DataType);
        Assert.Equal(expectedShape, a.Shape);
        switch (type)
        {
            case NpyDataType.Float32:
                Assert.Equal(source.Select(v => v * 0.25f).ToArray(), a.AsSpan<float>().ToArray());
                break;
            case NpyDataType.Float64:
                Assert.Equal(source.Select(v => v * 0.1).ToArray(), a.AsSpan<double>().ToArray());
                break;
            case NpyDataType.Int32:
                Assert.Equal(source.Select(v => (int)v * 1000).ToArray(), a.AsSpan<int>().ToArray());
                break;
            default:
                Assert.Equal(source.Select(v => v << 33).ToArray(), a.AsSpan<long>().ToArray());
                break;
        }

        // numpy aligns the data to 64 bytes; so do we.
        Assert.Equal(0, (new FileInfo(path).Length - (long)length * (type is NpyDataType.Float32 or NpyDataType.Int32 ? 4 : 8)) % 64);
    }

    [Theory]
    [InlineData("f32_2x3.npy")]
    [InlineData("i32_3x2.npy")]
    [InlineData("f64_1d.npy")]
    [InlineData("i64_2x2x2.npy")]
    [InlineData("f32_0x3.npy")]
    [InlineData("f64_scalar.npy")]
    public void Rewriting_a_numpy_file_reproduces_its_bytes(string name)
    {
        byte[] original = File.ReadAllBytes(Fixture(name));
        var copy = new MemoryStream();

        Npy.Write(copy, Npy.Read(new MemoryStream(original)));

        Assert.Equal(original, copy.ToArray());
    }

    [Fact]
    public void Writes_a_scalar_from_an_NpyArray()
    {
        NpyArray scalar = Npy.Read(Fixture("f64_scalar.npy"));
        string path = _temp.File("scalar.npy");

        Npy.Write(path, scalar);
        NpyArray back = Npy.Read(path);

        Assert.Equal(0, back.Rank);
        Assert.Equal([2.5], back.ToDoubleArray());
    }

    [Fact]
    public void Reads_consecutive_arrays_from_one_stream()
    {
        var stream = new MemoryStream();
        Npy.Write(stream, [1, 2, 3]);
        Npy.Write(stream, [4.5f, 5.5f], 2, 1);
        stream.Position = 0;

        NpyArray first = Npy.Read(stream);
        NpyArray second = Npy.Read(stream);

        Assert.Equal([1, 2, 3], first.ToInt32Array());
        Assert.Equal([2, 1], second.Shape);
        Assert.Equal([4.5f, 5.5f], second.ToFloatArray());
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public void Reads_from_a_stream_that_cannot_seek()
    {
        NpyArray a = Npy.Read(new NonSeekableStream(File.OpenRead(Fixture("i64_2x2x2.npy"))));

        Assert.Equal([-3L, -2, -1, 0, 1, 2, 3, 4], a.ToInt64Array());
    }

    [Fact]
    public void Write_rejects_a_shape_that_does_not_match_the_data()
    {
        var stream = new MemoryStream();

        var e = Assert.Throws<ArgumentException>(() => Npy.Write(stream, [1f, 2f, 3f], 2, 2));
        Assert.Equal("shape", e.ParamName);
        Assert.Contains("(2, 2)", e.Message);
        Assert.Throws<ArgumentException>(() => Npy.Write(stream, [1f, 2f], -1, -2));
        Assert.Throws<ArgumentException>(() => Npy.Write(stream, [1L], 65536, 65536, 2));
        Assert.Equal(0, stream.Length);
    }

    [Fact]
    public void Writes_version_2_when_the_header_needs_it()
    {
        // 25,000 unit dimensions make a header longer than version 1.0's 65,535-byte limit.
        int[] shape = Enumerable.Repeat(1, 25_000).ToArray();
        var stream = new MemoryStream();

        Npy.Write(stream, [7f], shape);
        byte[] bytes = stream.ToArray();
        stream.Position = 0;
        NpyArray a = Npy.Read(stream);

        Assert.Equal(2, bytes[6]);
        Assert.Equal(0, (bytes.Length - 4) % 64);
        Assert.Equal(shape, a.Shape);
        Assert.Equal([7f], a.ToFloatArray());
    }

    // ---- Files numpy writes that this library refuses ----

    [Fact]
    public void Refuses_fortran_order()
    {
        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(Fixture("fortran.npy")));
        Assert.Contains("fortran.npy", e.Message);
        Assert.Contains("Fortran", e.Message);
        Assert.Contains("(2, 3)", e.Message);
    }

    [Fact]
    public void Accepts_fortran_order_when_the_layout_is_the_same()
    {
        byte[] file = RawNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", Bytes(1f, 2f));

        NpyArray a = Npy.Read(new MemoryStream(file));

        Assert.Equal([1, 2], a.Shape);
        Assert.Equal([1f, 2f], a.ToFloatArray());
    }

    [Theory]
    [InlineData("f16.npy", "'<f2'", "float16")]
    [InlineData("str.npy", "'<U5'", "unicode string")]
    [InlineData("bool.npy", "'|b1'", "bool")]
    [InlineData("obj.npy", "'|O'", "Python object")]
    [InlineData("structured.npy", "structured", "record")]
    public void Refuses_unsupported_dtypes_naming_them(string name, string descr, string description)
    {
        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(Fixture(name)));
        Assert.Contains(name, e.Message);
        Assert.Contains(descr, e.Message);
        Assert.Contains(description, e.Message);
    }

    [Theory]
    [InlineData("'<u4'", "uint32")]
    [InlineData("'<i2'", "int16")]
    [InlineData("'<c8'", "complex64")]
    [InlineData("'<M8[ns]'", "datetime64")]
    [InlineData("'|i4'", "int32")]
    public void Refuses_other_numeric_dtypes(string descr, string description)
    {
        byte[] file = RawNpy($"{{'descr': {descr}, 'fortran_order': False, 'shape': (1,), }}", new byte[8]);

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        Assert.Contains(descr, e.Message);
        Assert.Contains(description, e.Message);
    }

    // ---- Damaged files ----

    [Fact]
    public void Refuses_bad_magic()
    {
        byte[] file = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        file[1] = (byte)'X';
        string path = _temp.File("bad_magic.npy");
        File.WriteAllBytes(path, file);

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(path));
        Assert.Contains("bad_magic.npy", e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(9)]
    [InlineData(60)]
    public void Refuses_a_file_cut_inside_the_header(int length)
    {
        byte[] file = File.ReadAllBytes(Fixture("f32_2x3.npy"))[..length];

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        Assert.Contains("<stream>", e.Message);
    }

    [Fact]
    public void Refuses_an_unknown_format_version()
    {
        byte[] file = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        file[6] = 4;

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        Assert.Contains("4.0", e.Message);
    }

    [Fact]
    public void Refuses_truncated_data_from_a_file()
    {
        byte[] file = File.ReadAllBytes(Fixture("f32_2x3.npy"));
        string path = _temp.File("truncated.npy");
        File.WriteAllBytes(path, file[..^5]);

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(path));
        Assert.Contains("truncated.npy", e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("24 bytes", e.Message);
        Assert.Contains("only 19", e.Message);
    }

    [Fact]
    public void Refuses_truncated_data_from_a_stream_that_cannot_seek()
    {
        byte[] file = File.ReadAllBytes(Fixture("i64_1d.npy"));

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new NonSeekableStream(new MemoryStream(file[..^1]))));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("only 31", e.Message);
    }

    [Fact]
    public void Refuses_a_huge_declared_shape_without_allocating_it()
    {
        // 2^30 float64 elements declared, 8 bytes present: caught before the 8 GB allocation.
        byte[] file = RawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1073741824,), }", new byte[8]);

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData("(1099511627776, 1099511627776)", "more than a .NET array can index")]
    [InlineData("(2147483647, 2147483647, 4)", "more elements than a .NET array can hold")]
    [InlineData("(99999999999999999999,)", "too large")]
    public void Refuses_shapes_whose_size_overflows(string shape, string expected)
    {
        byte[] file = RawNpy($"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", []);

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Zero_extent_makes_a_large_shape_empty()
    {
        byte[] file = RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 0, 2147483647), }", []);

        NpyArray a = Npy.Read(new MemoryStream(file));

        Assert.Equal([int.MaxValue, 0, int.MaxValue], a.Shape);
        Assert.Equal(0, a.Length);
    }

    [Theory]
    [InlineData("['descr', 'shape']", "not a dict")]
    [InlineData("{'descr': '<f4', 'fortran_order': False}", "no 'shape' key")]
    [InlineData("{'fortran_order': False, 'shape': (2,)}", "no 'descr' key")]
    [InlineData("{'descr': '<f4', 'shape': (2,)}", "no 'fortran_order' key")]
    [InlineData("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "'fortran_order' is not True or False")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}", "'shape' is not a tuple")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2)}", "'shape' is not a tuple")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", "not a non-negative integer")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': ('2',)}", "not a non-negative integer")]
    [InlineData("{'descr': 4, 'fortran_order': False, 'shape': (2,)}", "'descr' is not a string")]
    [InlineData("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}", "malformed")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)", "malformed")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", "unexpected text after the literal")]
    [InlineData("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}", "expected ',' or '}'")]
    [InlineData("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", "duplicate key")]
    [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", "unexpected character 'M'")]
    [InlineData("", "unexpected end of header")]
    public void Refuses_malformed_header_dicts(string header, string expected)
    {
        byte[] file = RawNpy(header, Bytes(1f, 2f));

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        Assert.Contains("header", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", true)]
    [InlineData("{'shape': (2,), 'descr': '<f4', 'fortran_order': False}", true)]
    [InlineData("{ 'descr' : '<f4' ,\t'fortran_order':False,'shape':( 2 , ) }", true)]
    [InlineData("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}", true)]
    [InlineData("{u'descr': u'<f4', u'fortran_order': False, u'shape': (2L,)}", true)]
    [InlineData("{'descr': '<f4',\n 'fortran_order': False,\n 'shape': (2,)}", true)]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': None}", true)]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", false)]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", false)]
    public void Parses_header_dicts_however_numpy_spells_them(string header, bool pad)
    {
        byte[] file = RawNpy(header, Bytes(1f, 2f), pad: pad);

        NpyArray a = Npy.Read(new MemoryStream(file));

        Assert.Equal([2], a.Shape);
        Assert.Equal([1f, 2f], a.ToFloatArray());
    }

    [Fact]
    public void Refuses_an_oversized_header_length()
    {
        byte[] file = new byte[16];
        file[0] = 0x93;
        "NUMPY"u8.CopyTo(file.AsSpan(1));
        file[6] = 2;
        BitConverter.TryWriteBytes(file.AsSpan(8), uint.MaxValue);

        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(file)));
        Assert.Contains("4294967295-byte", e.Message);
    }

    [Fact]
    public void Version_3_headers_are_utf8()
    {
        // A non-ASCII key that numpy would never write, to prove the bytes are decoded as UTF-8.
        byte[] file = RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'naïve': '→'}", Bytes(1f, 2f), major: 3);
        Assert.Equal([1f, 2f], Npy.Read(new MemoryStream(file)).ToFloatArray());

        byte[] bad = RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'k': 'x'}", Bytes(1f, 2f), major: 3);
        int at = Encoding.ASCII.GetString(bad).IndexOf("'x'", StringComparison.Ordinal) + 1;
        bad[at] = 0xFF;
        var e = Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(bad)));
        Assert.Contains("UTF-8", e.Message);
    }

    private static NpyArray RoundTrip(Action<Stream> write)
    {
        var stream = new MemoryStream();
        write(stream);
        stream.Position = 0;
        return Npy.Read(stream);
    }
}
