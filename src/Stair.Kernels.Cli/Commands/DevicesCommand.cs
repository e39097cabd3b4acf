// `stair-kernels devices`: every backend, its devices and capabilities, and why a backend is missing.
using System.CommandLine;

namespace Stair.Kernels.Cli.Commands;

internal static class DevicesCommand
{
    public static Command Create()
    {
        var require = CliOptions.Choice("--require", "exit code 1 when this backend has no usable device (typically opencl or cuda)", CliOptions.Backends);
        var command = new Command("devices", """
            Lists every backend (cpu, cuda, opencl, ilgpu-cpu) with its devices and their capabilities
            (memory, warp size, compute capability or OpenCL version, generic address space), and for each
            missing backend the reason. --require makes the exit code 1 when that backend has no usable device.
            """)
        {
            require,
        };
        command.SetAction(parse => Run(parse.GetValue(require)?.Value, parse.InvocationConfiguration.Output));
        return command;
    }

    private static int Run(Backend? required, TextWriter stdout)
    {
        IReadOnlyList<BackendReport> reports = BackendDiscovery.Probe();
        foreach (BackendReport report in reports)
        {
            stdout.WriteLine($"{Name(report.Backend),-10} {(report.Available ? "available" : "missing: " + report.Reason)}");
            if (report.Driver is not null)
            {
                stdout.WriteLine($"  driver: {report.Driver}");
            }
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
