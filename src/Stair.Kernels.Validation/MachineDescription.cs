// The machine a measurement or a validation ran on, as the header of every shared report
// (`validate --report`, the benchmark report): CPU model, cores, the SIMD tiers .NET can use,
// memory, OS and runtime, and every backend with its devices and driver. Measured throughput
// (the benchmark report's probes) is attached when there is one; validate does not measure it.
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Stair.Kernels.Validation;

/// <summary>What one report's machine measured: the probes behind every floor.</summary>
/// <param name="Threads">Threads the probes ran on (the kernels' default thread count).</param>
/// <param name="TriadGigabytesPerSecond">Stream triad a = b + s·c over tables larger than the last-level cache, counting 12 bytes per element.</param>
/// <param name="GatherRowsPerSecond">Random row gathers per second, by table size (bytes) of the case they model.</param>
/// <param name="GatherRowBytes">Bytes per gathered row.</param>
/// <param name="FmaGigaflops">Register-resident fused multiply-add throughput, 2 flops per lane.</param>
/// <param name="TriadBySize">The triad again over arrays of the sizes (bytes per array) of the streaming cases it models, which may fit a cache.</param>
public sealed record MachineThroughput(int Threads, double TriadGigabytesPerSecond, IReadOnlyDictionary<long, double> GatherRowsPerSecond,
    int GatherRowBytes, double FmaGigaflops, IReadOnlyDictionary<long, double>? TriadBySize = null);

/// <summary>A backend as a report lists it.</summary>
/// <param name="Backend">cpu, cuda, opencl or ilgpu-cpu.</param>
/// <param name="Available">Whether a usable device exists.</param>
/// <param name="Devices">"name: details" of each device (usable or not, with the problem).</param>
/// <param name="Driver">Driver or runtime, in words, when known.</param>
/// <param name="Reason">Why the backend is missing.</param>
public sealed record MachineBackend(string Backend, bool Available, IReadOnlyList<string> Devices, string? Driver, string? Reason);

/// <summary>The machine header of a report.</summary>
public sealed record MachineDescription(
    string CpuModel,
    int LogicalCores,
    IReadOnlyList<string> SimdTiers,
    IReadOnlyList<string> InstructionSets,
    long? MemoryBytes,
    string OperatingSystem,
    string Runtime,
    IReadOnlyList<MachineBackend> Backends,
    MachineThroughput? Throughput)
{
    /// <summary>Describes this machine; <paramref name="throughput"/> is what the caller measured, if anything.</summary>
    public static MachineDescription Capture(MachineThroughput? throughput = null)
    {
        var isa = new List<string>();
        void Add(bool supported, string name)
        {
            if (supported)
            {
                isa.Add(name);
            }
        }
        Add(Sse42.IsSupported, "SSE4.2");
        Add(Avx.IsSupported, "AVX");
        Add(Avx2.IsSupported, "AVX2");
        Add(Fma.IsSupported, "FMA");
        Add(Avx512F.IsSupported, "AVX-512F");
        Add(Avx512BW.IsSupported, "AVX-512BW");
        Add(Avx512DQ.IsSupported, "AVX-512DQ");
        Add(Avx512Vbmi.IsSupported, "AVX-512VBMI");
        Add(Avx10v1.IsSupported, "AVX10.1");
        var backends = BackendDiscovery.Probe().Select(r => new MachineBackend(
            BackendName(r.Backend), r.Available,
            [.. r.Devices.Select(d => $"{d.Name}: {d.Details}" + (d.Problem is null ? "" : $" (not usable: {d.Problem})"))],
            r.Driver, r.Reason)).ToList();
        return new MachineDescription(ReadCpuModel(), Environment.ProcessorCount,
            [.. Stair.Kernels.SimdTiers.Supported.Select(t => t.ToString().ToLowerInvariant())], isa, ReadMemoryBytes(),
            RuntimeInformation.OSDescription, RuntimeInformation.FrameworkDescription, backends, throughput);
    }

    /// <summary>The header as Markdown: a bullet list, then one line per backend.</summary>
    public string ToMarkdown()
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.AppendLine(c, $"- **CPU:** {CpuModel}, {LogicalCores} logical core(s); SIMD tiers {string.Join(", ", SimdTiers)}; ISA {string.Join(" ", InstructionSets)}");
        if (MemoryBytes is long bytes)
        {
            md.AppendLine(c, $"- **Memory:** {bytes / (1024.0 * 1024 * 1024):F1} GiB");
        }
        md.AppendLine(c, $"- **OS / runtime:** {OperatingSystem}; {Runtime}");
        if (Throughput is { } t)
        {
            string gathers = string.Join(", ", t.GatherRowsPerSecond.OrderBy(p => p.Key)
                .Select(p => $"{p.Value / 1e6:F0} M rows/s over {Size(p.Key)}"));
            md.AppendLine(c, $"- **Measured ({t.Threads} thread(s)):** triad {t.TriadGigabytesPerSecond:F1} GB/s; random {t.GatherRowBytes}-byte row gathers {gathers}; FMA {t.FmaGigaflops:F0} GFLOP/s");
        }
        foreach (MachineBackend b in Backends)
        {
            string state = b.Available ? "available" : "missing: " + b.Reason;
            string driver = b.Driver is null ? "" : "; driver " + b.Driver;
            md.AppendLine(c, $"- **{b.Backend}:** {state}{driver}");
            foreach (string device in b.Devices)
            {
                md.AppendLine(c, $"  - {device}");
            }
        }
        return md.ToString();
    }

    private static string Size(long bytes) => bytes >= 1 << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):F0} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F0} KiB");

    internal static string BackendName(Backend backend) => backend switch
    {
        Backend.Cpu => "cpu",
        Backend.Cuda => "cuda",
        Backend.OpenCL => "opencl",
        Backend.IlgpuCpu => "ilgpu-cpu",
        _ => "auto",
    };

    private static string ReadCpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':') is int colon and > 0)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    private static long? ReadMemoryBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (line.StartsWith("MemTotal:", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
