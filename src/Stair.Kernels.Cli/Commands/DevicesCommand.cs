// `stair-kernels devices`: every backend, its devices and capabilities, and why a backend is missing.
namespace Stair.Kernels.Cli.Commands;

internal static class DevicesCommand
{
    public const string Usage = """
        stair-kernels devices [--require opencl|cuda]
          Lists every backend (cpu, cuda, opencl, ilgpu-cpu) with its devices and their capabilities
          (memory, warp size, compute capability or OpenCL version, generic address space), and for each
          missing backend the reason. --require makes the exit code 1 when that backend has no usable device.
        """;

    public static int Run(IReadOnlyList<string> args, TextWriter stdout)
    {
        var a = new CliArguments(args, ["require"], []);
        Backend? required = a.Optional("require") is string r ? a.Backend(r) : null;
        IReadOnlyList<BackendReport> reports = BackendDiscovery.Probe();
        foreach (BackendReport report in reports)
        {
            stdout.WriteLine($"{Name(report.Backend),-10} {(report.Available ? "available" : "missing: " + report.Reason)}");
            foreach (DeviceReport device in report.Devices)
            {
                stdout.WriteLine($"  {(device.Usable ? "+" : "-")} {device.Name}");
                stdout.WriteLine($"      {device.Details}");
                if (device.Problem is not null)
                {
                    stdout.WriteLine($"      not usable: {device.Problem}");
                }
            }
        }
        if (required is Backend need && !reports.Any(r => r.Backend == need && r.Available))
        {
            stdout.WriteLine($"required backend {Name(need)} is missing");
            return 1;
        }
        return 0;
    }

    internal static string Name(Backend backend) => backend switch
    {
        Backend.Cpu => "cpu",
        Backend.Cuda => "cuda",
        Backend.OpenCL => "opencl",
        Backend.IlgpuCpu => "ilgpu-cpu",
        _ => "auto",
    };
}
