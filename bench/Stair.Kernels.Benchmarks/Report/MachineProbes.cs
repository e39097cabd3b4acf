// The probes of a report, run once before the kernels: stream triad and FMA throughput, and
// random 256-byte row gathers over a table of each size the selected graph cases gather from
// (the rate depends on whether the table fits a cache level). The probes are the C loops of
// bench/native (NativeReference); without a C compiler there is no probe and no model floor,
// and the report says why.
using Stair.Kernels.Benchmarks.Native;
using Stair.Kernels.Validation;

namespace Stair.Kernels.Benchmarks.Report;

internal static class MachineProbes
{
    private const int RowBytes = CaseSizes.Width * 4;

    /// <summary>The measured throughput of this machine for the given cases, or null (with the reason in <paramref name="skipped"/>).</summary>
    public static MachineThroughput? Measure(IEnumerable<CaseName> cases, TextWriter log, List<SkippedCase> skipped)
    {
        NativeReference? native = NativeReference.TryLoad(out string? reason);
        if (native is null)
        {
            skipped.Add(new SkippedCase("probes and C references", reason ?? "the native library did not load"));
            return null;
        }
        List<long> sizes = [.. FloorModel.TableSizes(cases)];
        if (sizes.Count == 0)
        {
            sizes.Add(64L << 20); // no graph case: one table past the last-level cache, for the header
        }
        int threads = Environment.ProcessorCount;
        var gathers = new Dictionary<long, double>();
        var triads = new List<double>();
        var fmas = new List<double>();
        foreach (long size in sizes)
        {
            MachineProbe probe = native.Probe(size, RowBytes, threads);
            gathers[size] = probe.GatherRowsPerSecond;
            triads.Add(probe.TriadGBps);
            fmas.Add(probe.FmaGflops);
        }
        var streams = new Dictionary<long, double>();
        foreach (long bytes in FloorModel.StreamSizes(cases))
        {
            streams[bytes] = native.TriadGBps(bytes / sizeof(float), 8, threads);
        }
        var result = new MachineThroughput(threads, ReportDriver.Median(triads), gathers, RowBytes, ReportDriver.Median(fmas), streams);
        log.WriteLine($"  probes: triad {result.TriadGigabytesPerSecond:F1} GB/s, FMA {result.FmaGigaflops:F0} GFLOP/s, gathers over {sizes.Count} table size(s)");
        return result;
    }
}
