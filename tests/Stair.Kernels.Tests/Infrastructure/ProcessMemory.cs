// The process's memory for soak tests: managed heap after full, compacting collections with finalizers
// run (GC.GetTotalMemory(true)), and the OS's view, working set and private bytes (native allocations of
// PoCL and ILGPU, pinned host tables, thread stacks). Linked into every test project that soaks.
using System.Diagnostics;
using System.Runtime;

namespace Stair.Kernels.Tests.Infrastructure;

public readonly record struct ProcessMemory(long Managed, long WorkingSet, long Private)
{
    /// <summary>Collects (finalizers included, the large-object heap compacted) and then reads all three.</summary>
    public static ProcessMemory Sample()
    {
        for (int i = 0; i < 2; i++)
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        return new ProcessMemory(managed, self.WorkingSet64, self.PrivateMemorySize64);
    }

    public override string ToString() => $"managed {Mib(Managed)} MiB, working set {Mib(WorkingSet)} MiB, private {Mib(Private)} MiB";

    public static string Mib(long bytes) => (bytes / 1048576.0).ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Each measure of <paramref name="end"/> relative to <paramref name="start"/>, e.g. "+1.2 %, -0.3 %, +0.8 %".</summary>
    public static string Change(ProcessMemory start, ProcessMemory end)
        => $"managed {Percent(start.Managed, end.Managed)}, working set {Percent(start.WorkingSet, end.WorkingSet)}, private {Percent(start.Private, end.Private)}";

    public static double Ratio(long start, long end) => (double)end / start;

    private static string Percent(long start, long end)
        => Math.Round((Ratio(start, end) - 1) * 100, 1).ToString("+0.0;-0.0;0.0", System.Globalization.CultureInfo.InvariantCulture) + " %";
}
