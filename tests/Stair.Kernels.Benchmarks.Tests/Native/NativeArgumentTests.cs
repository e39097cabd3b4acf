// Bad arguments are rejected in C# with exceptions that name the argument, before any native call.
using Stair.Kernels.Benchmarks.Native;
using static Stair.Kernels.Benchmarks.Tests.Native.NativeTestSupport;

namespace Stair.Kernels.Benchmarks.Tests.Native;

public sealed class NativeArgumentTests
{
    private static readonly CsrMatrix Square = new(3, 3, [0, 1, 2, 3], [1, 2, 0], [0.5f, 0.25f, 1f]);
    private static readonly CsrMatrix Wide = new(2, 3, [0, 1, 2], [2, 0], [1f, 1f]);

    [SkippableFact]
    public void Spmm_RejectsBadArguments()
    {
        NativeReference native = Require();
        float[] x = new float[3 * 4], y = new float[3 * 4];
        Throws<ArgumentNullException>("matrix", () => native.Spmm(null!, x, y, 4, 1));
        Throws<ArgumentOutOfRangeException>("width", () => native.Spmm(Square, x, y, 0, 1));
        Throws<ArgumentOutOfRangeException>("threads", () => native.Spmm(Square, x, y, 4, 0));
        Throws<ArgumentException>("input", () => native.Spmm(Square, new float[11], y, 4, 1));
        Throws<ArgumentException>("output", () => native.Spmm(Wide, x, new float[3 * 4], 4, 1));
        Throws<ArgumentException>("output", () => native.Spmm(Square, x, x, 4, 1));
    }

    [SkippableFact]
    public void Fsc_RejectsBadArguments()
    {
        NativeReference native = Require();
        const int d = 4;
        float[] e = new float[3 * d], y = new float[3 * d], beta = [0.9f, 0.5f, 0.2f, 0f];
        var workspace = new PropagationWorkspace(3, d);
        Throws<ArgumentNullException>("matrix", () => native.Fsc(null!, e, y, d, 2, beta, workspace, 1));
        Throws<ArgumentException>("matrix", () => native.Fsc(Wide, e, y, d, 2, beta, workspace, 1));
        Throws<ArgumentOutOfRangeException>("width", () => native.Fsc(Square, e, y, 0, 2, beta, workspace, 1));
        Throws<ArgumentOutOfRangeException>("layers", () => native.Fsc(Square, e, y, d, -1, beta, workspace, 1));
        Throws<ArgumentOutOfRangeException>("threads", () => native.Fsc(Square, e, y, d, 2, beta, workspace, -3));
        Throws<ArgumentException>("input", () => native.Fsc(Square, new float[5], y, d, 2, beta, workspace, 1));
        Throws<ArgumentException>("output", () => native.Fsc(Square, e, new float[5], d, 2, beta, workspace, 1));
        Throws<ArgumentException>("output", () => native.Fsc(Square, e, e, d, 2, beta, workspace, 1));
        Throws<ArgumentException>("beta", () => native.Fsc(Square, e, y, d, 2, [0.5f], workspace, 1));
        Throws<ArgumentException>("beta", () => native.Fsc(Square, e, y, d, 2, [0.5f, 1.5f, 0f, 0f], workspace, 1));
        Throws<ArgumentException>("beta", () => native.Fsc(Square, e, y, d, 2, [0.5f, float.NaN, 0f, 0f], workspace, 1));
        Throws<ArgumentException>("output", () => native.Fsc(Square, e, y, d, 2, y.AsSpan(0, d), workspace, 1));
        Throws<ArgumentNullException>("workspace", () => native.Fsc(Square, e, y, d, 2, beta, null!, 1));
        Throws<ArgumentException>("workspace", () => native.Fsc(Square, e, y, d, 2, beta, new PropagationWorkspace(2, d), 1));
        Throws<ArgumentException>("workspace", () => native.Fsc(Square, e, y, d, 2, beta, new PropagationWorkspace(3, d + 1), 1));
    }

    [SkippableFact]
    public void Dense_RejectsBadArguments()
    {
        NativeReference native = Require();
        float[] a = new float[4 * 3], b = new float[5 * 3], c = new float[4 * 5];
        Throws<ArgumentOutOfRangeException>("threads", () => native.MultiplyTransposed(a, 3, b, 3, c, 5, 4, 5, 3, 0));
        Throws<ArgumentOutOfRangeException>("m", () => native.MultiplyTransposed(a, 3, b, 3, c, 5, -1, 5, 3, 1));
        Throws<ArgumentOutOfRangeException>("n", () => native.MultiplyTransposed(a, 3, b, 3, c, 5, 4, -1, 3, 1));
        Throws<ArgumentOutOfRangeException>("k", () => native.MultiplyTransposed(a, 3, b, 3, c, 5, 4, 5, -1, 1));
        Throws<ArgumentOutOfRangeException>("lda", () => native.MultiplyTransposed(a, 2, b, 3, c, 5, 4, 5, 3, 1));
        Throws<ArgumentOutOfRangeException>("ldb", () => native.MultiplyTransposed(a, 3, b, 2, c, 5, 4, 5, 3, 1));
        Throws<ArgumentOutOfRangeException>("ldc", () => native.MultiplyTransposed(a, 3, b, 3, c, 4, 4, 5, 3, 1));
        Throws<ArgumentException>("a", () => native.MultiplyTransposed(a.AsSpan(0, 11), 3, b, 3, c, 5, 4, 5, 3, 1));
        Throws<ArgumentException>("b", () => native.MultiplyTransposed(a, 3, b.AsSpan(1), 3, c, 5, 4, 5, 3, 1));
        Throws<ArgumentException>("c", () => native.MultiplyTransposed(a, 3, b, 3, c.AsSpan(1), 5, 4, 5, 3, 1));
        Throws<ArgumentException>("c", () => native.MultiplyTransposed(c, 5, b, 3, c, 5, 4, 5, 3, 1));
        Throws<ArgumentException>("c", () => native.MultiplyTransposed(a, 3, c, 5, c, 5, 4, 4, 3, 1));
        Throws<ArgumentOutOfRangeException>("lda", () => native.MultiplySelfTransposed(a, 2, c, 5, 4, 3, 1));
        Throws<ArgumentOutOfRangeException>("ldc", () => native.MultiplySelfTransposed(a, 3, c, 3, 4, 3, 1));
        Throws<ArgumentException>("c", () => native.MultiplySelfTransposed(a, 3, c.AsSpan(0, 15), 4, 4, 3, 1));
        Throws<ArgumentOutOfRangeException>("threads", () => native.MultiplySelfTransposed(a, 3, c, 5, 4, 3, 0));
    }

    [SkippableFact]
    public void Probes_RejectBadArguments()
    {
        NativeReference native = Require();
        Throws<ArgumentOutOfRangeException>("elements", () => native.TriadGBps(0, 1, 1));
        Throws<ArgumentOutOfRangeException>("reps", () => native.TriadGBps(10, 0, 1));
        Throws<ArgumentOutOfRangeException>("threads", () => native.TriadGBps(10, 1, 0));
        Throws<ArgumentOutOfRangeException>("tableRows", () => native.GatherRowsPerSecond(0, 16, 10, 1, 1, 0));
        Throws<ArgumentOutOfRangeException>("tableRows", () => native.GatherRowsPerSecond(1L << 31, 16, 10, 1, 1, 0));
        Throws<ArgumentOutOfRangeException>("rowFloats", () => native.GatherRowsPerSecond(10, 0, 10, 1, 1, 0));
        Throws<ArgumentOutOfRangeException>("gathers", () => native.GatherRowsPerSecond(10, 16, 0, 1, 1, 0));
        Throws<ArgumentOutOfRangeException>("reps", () => native.GatherRowsPerSecond(10, 16, 10, 0, 1, 0));
        Throws<ArgumentOutOfRangeException>("threads", () => native.GatherRowsPerSecond(10, 16, 10, 1, 0, 0));
        Throws<ArgumentOutOfRangeException>("threads", () => native.FmaGflops(0, 1));
        Throws<ArgumentOutOfRangeException>("reps", () => native.FmaGflops(1, 0));
        Throws<ArgumentOutOfRangeException>("rowBytes", () => native.Probe(1 << 20, 6, 1));
        Throws<ArgumentOutOfRangeException>("rowBytes", () => native.Probe(1 << 20, 0, 1));
        Throws<ArgumentOutOfRangeException>("tableBytes", () => native.Probe(100, 256, 1));
        Throws<ArgumentOutOfRangeException>("tableBytes", () => native.Probe(4L << 31, 4, 1));
        Throws<ArgumentOutOfRangeException>("threads", () => native.Probe(1 << 20, 256, 0));
    }

    private delegate void Call();

    private static void Throws<T>(string parameter, Call call)
        where T : ArgumentException
    {
        T e = Assert.Throws<T>(() => call());
        Assert.Equal(parameter, e.ParamName);
    }
}
