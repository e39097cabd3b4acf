// Entry point of the benchmark suites:
//   dotnet run -c Release --project bench/Stair.Kernels.Benchmarks -- --filter '*'        (BenchmarkDotNet, one filter at a time)
//   dotnet run -c Release --project bench/Stair.Kernels.Benchmarks -- report [--mode …]   (the report: scripts/bench.sh)
using BenchmarkDotNet.Running;
using Stair.Kernels.Benchmarks.Report;

if (args.Length > 0 && args[0] == "report")
{
    return ReportCommand.Run(args[1..]);
}
BenchmarkSwitcher.FromAssembly(typeof(Stair.Kernels.Benchmarks.PropagationBenchmarks).Assembly).Run(args);
return 0;
