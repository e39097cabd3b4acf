// The hardware probes return positive, finite rates (their values are the machine's, never asserted).
using Stair.Kernels.Benchmarks.Native;
using static Stair.Kernels.Benchmarks.Tests.Native.NativeTestSupport;

namespace Stair.Kernels.Benchmarks.Tests.Native;

public sealed class NativeProbeTests
{
    [SkippableFact]
    public void Triad_IsPositiveAndFinite()
    {
        NativeReference native = Require();
        AssertRate(native.TriadGBps(1 << 20, reps: 2, threads: 2));
        AssertRate(native.TriadGBps(1, reps: 1, threads: 1));
    }

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(64)]
    [InlineData(100)]
    public void Gather_IsPositiveAndFinite_ForEveryRowLength(int rowFloats)
    {
        NativeReference native = Require();
        AssertRate(native.GatherRowsPerSecond(1000, rowFloats, 20_001, reps: 2, threads: 2, seed: 42));
        AssertRate(native.GatherRowsPerSecond(1, rowFloats, 1, reps: 1, threads: 3, seed: 0)); // fewer gathers than threads
    }

    [SkippableFact]
    public void Fma_IsPositiveAndFinite()
    {
        NativeReference native = Require();
        AssertRate(native.FmaGflops(threads: 1, reps: 1));
    }

    [SkippableFact]
    public void Probe_FillsEveryField()
    {
        NativeReference native = Require();
        MachineProbe probe = native.Probe(tableBytes: (1 << 20) + 100, rowBytes: 256, threads: 2);
        AssertRate(probe.TriadGBps);
        AssertRate(probe.GatherRowsPerSecond);
        AssertRate(probe.FmaGflops);
        Assert.Equal(256, probe.GatherRowBytes);
        Assert.Equal(1 << 20, probe.GatherTableBytes); // whole rows only
        Assert.Equal(2, probe.Threads);
    }

    [SkippableFact]
    public void Probes_OfTheScalarBuild_ArePositiveAndFinite()
    {
        NativeReference native = RequireBuild(WithMarch("-march=x86-64"));
        Assert.Equal(1, native.Isa);
        AssertRate(native.TriadGBps(1 << 16, reps: 1, threads: 2));
        AssertRate(native.GatherRowsPerSecond(500, 64, 5000, reps: 1, threads: 2, seed: 1));
        AssertRate(native.FmaGflops(threads: 1, reps: 1));
    }

    private static void AssertRate(double rate) => Assert.True(rate > 0 && double.IsFinite(rate), $"rate {rate}");
}
