// Entry point of the benchmark suites: `dotnet run -c Release --project bench/Stair.Kernels.Benchmarks -- --filter '*'`.
using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Stair.Kernels.Benchmarks.PropagationBenchmarks).Assembly).Run(args);
