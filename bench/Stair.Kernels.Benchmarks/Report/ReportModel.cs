// What one benchmark report holds (report.json is this, serialized): the machine, one row per
// kernel × shape × variant (backend or SIMD tier, naive, c-ref) with its median over rounds,
// spread, allocation, floor and ratios, the growth points, the peers' times and every case
// that did not run, with the reason. Times are milliseconds throughout.
using Stair.Kernels.Validation;

namespace Stair.Kernels.Benchmarks.Report;

/// <summary>How much a report measures.</summary>
public enum ReportMode
{
    /// <summary>One tiny case per kernel and variant, one round of cold single calls: proves the command runs (CI).</summary>
    Smoke,

    /// <summary>The Baby shapes on every variant, growth up to the Electronics shape, two rounds (≤ 10 minutes on 2 cores).</summary>
    Quick,

    /// <summary>Every shape on every variant, growth to 10× Electronics, three rounds (≤ 60 minutes on 2 cores).</summary>
    Full,
}

/// <summary>One kernel × shape × variant, summarized over the rounds.</summary>
/// <param name="Kernel">The kernel, e.g. "SpMM", "FSC", "whitening exact".</param>
/// <param name="Shape">The input shape, e.g. "baby", "electronics", "baby-text-flat" (and other parameters, e.g. "baby, batch 1024").</param>
/// <param name="Variant">Where it ran: a SIMD tier (scalar, avx2, avx512), naive, c-ref, cpu, opencl, cuda or ilgpu-cpu.</param>
/// <param name="Suite">The BenchmarkDotNet class and method it came from.</param>
/// <param name="MedianMs">The median of the rounds' medians.</param>
/// <param name="RoundMediansMs">Each round's median.</param>
/// <param name="Spread">(max − min) / median of the round medians; with one round, the interquartile range / median inside it.</param>
/// <param name="Unsteady">Spread above 10 %.</param>
/// <param name="AllocatedBytes">Managed bytes allocated per call (BenchmarkDotNet's memory diagnoser).</param>
/// <param name="FloorMs">The faster of the hardware model and the C reference, when either exists.</param>
/// <param name="FloorSource">What the floor is: "model: …" or "c-ref".</param>
/// <param name="PercentOfFloor">100 · floor / median: 100 % runs at the floor.</param>
/// <param name="Baseline">The variant the ratio is taken against (naive, else scalar).</param>
/// <param name="SpeedupOverBaseline">baseline median / this median.</param>
/// <param name="Peers">The peers measured on the same inputs, with their speed-up ratio (peer / this).</param>
public sealed record ReportRow(
    string Kernel, string Shape, string Variant, string Suite,
    double MedianMs, IReadOnlyList<double> RoundMediansMs, double Spread, bool Unsteady, long? AllocatedBytes,
    double? FloorMs, string? FloorSource, double? PercentOfFloor,
    string? Baseline, double? SpeedupOverBaseline,
    IReadOnlyList<PeerComparison> Peers);

/// <summary>A peer's time on the same input and how much faster this row is.</summary>
public sealed record PeerComparison(string Peer, double MedianMs, double Speedup, double? MaxRelativeError);

/// <summary>One size of the growth curve.</summary>
public sealed record GrowthPoint(string Kernel, string Variant, string Size, int Rows, long NonZeros, int Width, double MedianMs, double NanosecondsPerNonZero);

/// <summary>A case that was selected but did not produce a number, and why.</summary>
public sealed record SkippedCase(string What, string Reason);

/// <summary>The whole report.</summary>
public sealed record PerformanceReport(
    string Version, DateTimeOffset Started, double Minutes, ReportMode Mode, int Rounds, string Command,
    MachineDescription Machine,
    IReadOnlyList<ReportRow> Rows,
    IReadOnlyList<GrowthPoint> Growth,
    IReadOnlyList<SkippedCase> Skipped,
    IReadOnlyDictionary<string, string> PeerEnvironment,
    IReadOnlyList<DistributedPoint>? Distributed = null);
