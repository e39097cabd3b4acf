// Entry point of the benchmark suites:
//   dotnet run -c Release --project bench/Stair.Kernels.Benchmarks -- --filter '*'        (BenchmarkDotNet, one filter at a time)
//   dotnet run -c Release --project bench/Stair.Kernels.Benchmarks -- report [--mode …]   (the report: scripts/bench.sh)
//   dotnet run -c Release --project bench/Stair.Kernels.Benchmarks -- scale [--interactions N …] (big graphs: scripts/scale.sh)
//   mpiexec -n R dotnet …/Stair.Kernels.Benchmarks.dll distributed [--shape …]      (ranks vs threads: scripts/bench-distributed.sh)
//   dotnet run -c Release --project bench/Stair.Kernels.Benchmarks -- partition-probe  (row blocks vs METIS k-way: kernels.md, "Partitioner probe")
// The suites carry no iteration counts of their own: the report sets them per mode, and a plain run gets the
// default job below (2 warm-ups, 7 iterations), which any job on the command line (--job short, --iterationCount N) replaces.
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Stair.Kernels.Benchmarks.Report;

if (args.Length > 0 && args[0] == "report")
{
    return ReportCommand.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "distributed")
{
    return Stair.Kernels.Benchmarks.Distributed.DistributedCommand.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "partition-probe")
{
    return Stair.Kernels.Benchmarks.Distributed.PartitionProbeCommand.Run(args[1..]);
}
if (args.Length > 0 && args[0] == "scale")
{
    return Stair.Kernels.Benchmarks.Scale.ScaleCommand.Run(args[1..]);
}
IConfig config = DefaultConfig.Instance.AddJob(Job.Default.WithWarmupCount(2).WithIterationCount(7).AsDefault());
BenchmarkSwitcher.FromAssembly(typeof(Stair.Kernels.Benchmarks.PropagationBenchmarks).Assembly).Run(args, config);
return 0;
