// The readers' and writers' contracts that the round trips and the fuzz corpus do not pin (found by mutation
// testing, kernels.md "Mutation score"): every public entry refuses null by name, the header literal parser's
// escapes and its error messages, truncated preambles and headers named as such, and unsupported dtypes named in
// words. The corpus replay checks only that a rejection has the documented type; these check what it says.
using System.Text;
using Stair.Kernels.IO;
using static Stair.Kernels.Tests.IO.IoTestSupport;

namespace Stair.Kernels.Tests.IO;

public class IoContractTests
{
    private static NpyArray SmallArray()
    {
        using var stream = new MemoryStream();
        Npy.Write(stream, [1f, 2f, 3f, 4f], 2, 2);
        stream.Position = 0;
        return Npy.Read(stream);
    }

    [Fact]
    public void Every_public_entry_refuses_null_by_name()
    {
        NpyArray array = SmallArray();
        var matrix = new CsrMatrix(1, 1, [0, 1], [0], [1f]);
        // A folder of this run only: a null array or matrix must be refused before the file is created.
        using var temp = new TempDirectory();
        string npyPath = Path.Combine(temp.Path, "never-written.npy");
        string npzPath = Path.Combine(temp.Path, "never-written.npz");
        void Null(string param, Action call) => Assert.Equal(param, Assert.Throws<ArgumentNullException>(call).ParamName);
        Null("path", () => Npy.Read((string)null!));
        Null("stream", () => Npy.Read((Stream)null!));
        Null("path", () => Npy.ReadMatrix((string)null!, out _, out _));
        Null("stream", () => Npy.ReadMatrix((Stream)null!, out _, out _));
        Null("path", () => Npy.Write((string)null!, array));
        Null("array", () => Npy.Write(npyPath, (NpyArray)null!));
        Null("array", () => Npy.Write(new MemoryStream(), (NpyArray)null!));
        Null("path", () => Npy.Write((string)null!, [1f], 1));
        Null("stream", () => Npy.Write((Stream)null!, [1f], 1));
        Null("path", () => ScipyNpz.ReadCsr((string)null!));
        Null("stream", () => ScipyNpz.ReadCsr((Stream)null!));
        Null("path", () => ScipyNpz.WriteCsr((string)null!, matrix));
        Null("matrix", () => ScipyNpz.WriteCsr(npzPath, null!));
        Null("stream", () => ScipyNpz.WriteCsr((Stream)null!, matrix));
        Null("matrix", () => ScipyNpz.WriteCsr(new MemoryStream(), null!));
        Null("path", () => InteractionTable.Read(null!));
        Assert.False(File.Exists(npyPath));
        Assert.False(File.Exists(npzPath));
    }

    private static NpyArray Roundtrip(Action<Stream> write)
    {
        using var stream = new MemoryStream();
        write(stream);
        stream.Position = 0;
        return Npy.Read(stream);
    }

    [Fact]
    public void Integer_conversions_name_the_element_out_of_range_and_refuse_floats_by_method()
    {
        NpyArray wide = Roundtrip(s => Npy.Write(s, [int.MaxValue, 1L << 40, int.MinValue]));
        Assert.Contains("Element 1 of the int64 array is 1099511627776", Assert.Throws<OverflowException>(() => wide.ToInt32Array()).Message);
        NpyArray low = Roundtrip(s => Npy.Write(s, [(long)int.MinValue - 1]));
        Assert.Contains("Element 0", Assert.Throws<OverflowException>(() => low.ToInt32Array()).Message);
        NpyArray edges = Roundtrip(s => Npy.Write(s, [(long)int.MaxValue, int.MinValue]));
        Assert.Equal(new[] { int.MaxValue, int.MinValue }, edges.ToInt32Array());
        NpyArray floats = Roundtrip(s => Npy.Write(s, [1f, 2f]));
        Assert.Contains("ToInt32Array() converts only int32 and int64", Assert.Throws<InvalidOperationException>(() => floats.ToInt32Array()).Message);
        Assert.Contains("ToInt64Array() converts only int32 and int64", Assert.Throws<InvalidOperationException>(() => floats.ToInt64Array()).Message);
    }

    private static object? Parse(string text) => new PythonLiteralParser(text).ParseDocument();

    [Fact]
    public void The_header_parser_decodes_every_escape_python_writes()
    {
        // \n \t \r \0 \x41 \u0042 \\ \' \" and an unknown escape (kept verbatim, as Python keeps it).
        Assert.Equal("a\nb\tc\rd\0eAB\\'\"\\q", Parse(@"'a\nb\tc\rd\0e\x41\u0042\\\'\""\q'"));
        Assert.Equal("x", Parse("u'x'"));
        Assert.Equal("y", Parse("b\"y\""));
        Assert.Equal(true, Parse("True"));
        Assert.Equal(-12L, Parse(" -12L "));
    }

    [Theory]
    [InlineData("'abc", "unterminated string")]
    [InlineData("'ab\ncd'", "unterminated string")]
    [InlineData("'ab\\", "unterminated string")]
    [InlineData("'\\x4'", "bad escape in string")]
    [InlineData("'\\u12G4'", "bad escape in string")]
    [InlineData("-", "a sign without digits")]
    [InlineData("{1: 2}", "a dict key that is not a string")]
    [InlineData("{'a': 1 'b': 2}", "expected ',' or '}'")]
    [InlineData("(1 2)", "expected ',' or ')'")]
    [InlineData("{'a' 1}", "expected ':'")]
    [InlineData("Truex", "at character 0")]
    [InlineData("True_", "at character 0")]
    public void Bad_header_literals_say_what_is_wrong_and_where(string text, string message)
    {
        Assert.Contains(message, Assert.Throws<FormatException>(() => Parse(text)).Message);
    }

    [Fact]
    public void Literals_nested_past_the_limit_are_refused_by_name()
    {
        // 32 levels parse; 34 do not (a header is a flat dict; the limit keeps a hostile file off the stack).
        Assert.NotNull(Parse(new string('[', 32) + new string(']', 32)));
        Assert.Contains("literal nested too deeply", Assert.Throws<FormatException>(() => Parse(new string('[', 34) + new string(']', 34))).Message);
    }

    private static string ReadError(byte[] bytes) => Assert.Throws<NpyFormatException>(() => Npy.Read(new MemoryStream(bytes))).Message;

    [Fact]
    public void Truncated_preambles_and_headers_are_named_as_such()
    {
        byte[] whole = RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Bytes(1f, 2f));
        Assert.Contains("only 5 bytes long, shorter than the 8-byte preamble", ReadError(whole[..5]));
        Assert.Contains("truncated inside the .npy preamble (header length missing)", ReadError(whole[..9]));
        Assert.Contains("truncated inside the .npy header", ReadError(whole[..40]));
        byte[] v2 = RawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Bytes(1f, 2f), major: 2);
        Assert.Contains("truncated inside the .npy preamble (header length missing)", ReadError(v2[..11]));
        Assert.Equal(new[] { 1f, 2f }, Npy.Read(new MemoryStream(v2)).TakeFloatArray());
    }

    [Theory]
    [InlineData("|b1", "bool")]
    [InlineData("|S5", "byte string")]
    [InlineData("|V8", "raw bytes / void")]
    [InlineData("<m8", "timedelta64")]
    [InlineData("<X4", "unknown type")]
    [InlineData("<f2", "float16")]
    [InlineData("<u4", "uint32")]
    public void Unsupported_dtypes_are_named_in_words(string descr, string words)
    {
        string message = ReadError(RawNpy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}", new byte[16]));
        Assert.Contains($"dtype '{descr}' ({words})", message);
    }

    [Fact]
    public void An_empty_type_string_is_named()
    {
        Assert.Contains("empty type string", ReadError(RawNpy("{'descr': '', 'fortran_order': False, 'shape': (1,), }", new byte[4])));
    }

    [Fact]
    public void A_type_string_without_a_byte_order_reads_as_native()
    {
        // numpy writes '<f4', but 'f4' (no order character) is a valid dtype string: native order, here little.
        NpyArray array = Npy.Read(new MemoryStream(RawNpy("{'descr': 'f4', 'fortran_order': False, 'shape': (2,), }", Bytes(1.5f, -2f))));
        Assert.Equal(new[] { 1.5f, -2f }, array.TakeFloatArray());
    }
}
