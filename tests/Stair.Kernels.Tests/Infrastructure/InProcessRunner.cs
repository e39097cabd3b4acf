// The test assembly's own entry point: runs its xunit tests in this process, with no SDK, vstest or test host.
// `dotnet test` never calls it (vstest loads the assembly into its own host); it exists for the self-contained
// publish that scripts/gpu-check.sh carries to a GPU machine with no .NET:
//
//   Stair.Kernels.Tests [--filter GLOB]... [--list]
//   Stair.Kernels.Tests --mpi-scenario NAME      (one rank of a distributed test, started by mpiexec)
//
// A test runs when its display name ("Namespace.Class.Method(arg: value, ...)") matches any GLOB ('*' is any
// run of characters, '?' one character; no --filter runs every test). Each result is printed and flushed as it
// comes, so a run killed by a timeout still leaves every finished result and the name of the test it was in.
// The last line is "N passed, N failed, N skipped"; the exit code is 0 only when tests ran and none failed.
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Stair.Kernels.Tests.Infrastructure;

public static class InProcessRunner
{
    public static int Main(string[] args)
    {
        // Under mpiexec: one rank of a distributed scenario (Distributed/DistributedScenarios.cs).
        if (args is ["--mpi-scenario", string scenario])
        {
            return Distributed.DistributedScenarios.Run(scenario);
        }
        var patterns = new List<Regex>();
        bool listOnly = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--filter" when i + 1 < args.Length:
                    patterns.Add(Glob(args[++i]));
                    break;
                case "--list":
                    listOnly = true;
                    break;
                default:
                    Console.Error.WriteLine($"unknown or incomplete argument '{args[i]}'; usage: Stair.Kernels.Tests [--filter GLOB]... [--list]");
                    return 2;
            }
        }

        Assembly assembly = typeof(InProcessRunner).Assembly;
        var diagnostics = new Sink(_ => { });
        using var framework = new XunitTestFramework(diagnostics);

        var found = new List<ITestCase>();
        using (var discovery = new Sink(message =>
               {
                   if (message is ITestCaseDiscoveryMessage discovered)
                   {
                       found.Add(discovered.TestCase);
                   }
               }))
        {
            using ITestFrameworkDiscoverer discoverer = framework.GetDiscoverer(new ReflectionAssemblyInfo(assembly));
            discoverer.Find(includeSourceInformation: false, discovery, new Options());
            discovery.Finished.WaitOne();
        }

        List<ITestCase> selected = found
            .Where(test => patterns.Count == 0 || patterns.Any(p => p.IsMatch(test.DisplayName)))
            .OrderBy(test => test.DisplayName, StringComparer.Ordinal)
            .ToList();
        Console.WriteLine($"{selected.Count} of {found.Count} test cases selected");
        if (listOnly)
        {
            selected.ForEach(test => Console.WriteLine(test.DisplayName));
            return selected.Count > 0 ? 0 : 1;
        }
        if (selected.Count == 0)
        {
            Console.WriteLine("0 passed, 0 failed");
            Console.Error.WriteLine("no test matched the filters");
            return 1;
        }

        int passed = 0, failed = 0, skipped = 0, errors = 0;
        var gate = new object();
        void Write(string line)
        {
            lock (gate)
            {
                Console.WriteLine(line);
                Console.Out.Flush();
            }
        }
        using (var execution = new Sink(message =>
               {
                   switch (message)
                   {
                       case ITestStarting starting:
                           Write($"[start] {starting.Test.DisplayName}");
                           break;
                       case ITestPassed pass:
                           Interlocked.Increment(ref passed);
                           Write($"[pass] {pass.Test.DisplayName} ({pass.ExecutionTime:F3} s)");
                           break;
                       case ITestSkipped skip:
                           Interlocked.Increment(ref skipped);
                           Write($"[skip] {skip.Test.DisplayName}: {skip.Reason}");
                           break;
                       case ITestFailed fail:
                           Interlocked.Increment(ref failed);
                           Write($"[FAIL] {fail.Test.DisplayName} ({fail.ExecutionTime:F3} s)\n{Describe(fail)}"
                               + (string.IsNullOrEmpty(fail.Output) ? "" : $"\n  output:\n{fail.Output}"));
                           break;
                       case IErrorMessage error:
                           Interlocked.Increment(ref errors);
                           Write($"[ERROR] {Describe(error)}");
                           break;
                       case ITestAssemblyCleanupFailure or ITestCollectionCleanupFailure or ITestClassCleanupFailure
                           or ITestCaseCleanupFailure or ITestCleanupFailure:
                           Interlocked.Increment(ref errors);
                           Write($"[ERROR] cleanup: {Describe((IFailureInformation)message)}");
                           break;
                   }
               }))
        {
            using ITestFrameworkExecutor executor = framework.GetExecutor(assembly.GetName());
            executor.RunTests(selected, execution, new Options());
            execution.Finished.WaitOne();
        }

        if (errors > 0)
        {
            Console.WriteLine($"{errors} errors outside tests");
        }
        Console.WriteLine($"{passed} passed, {failed + errors} failed, {skipped} skipped");
        return failed == 0 && errors == 0 && passed + skipped > 0 ? 0 : 1;
    }

    private static Regex Glob(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace(@"\*", ".*", StringComparison.Ordinal).Replace(@"\?", ".", StringComparison.Ordinal) + "$",
            RegexOptions.Singleline | RegexOptions.CultureInvariant);

    private static string Describe(IFailureInformation failure)
    {
        var text = new System.Text.StringBuilder();
        for (int i = 0; i < failure.ExceptionTypes.Length; i++)
        {
            text.Append("  ").Append(failure.ExceptionTypes[i]).Append(": ").AppendLine(failure.Messages.ElementAtOrDefault(i));
            if (failure.StackTraces.ElementAtOrDefault(i) is { Length: > 0 } stack)
            {
                text.AppendLine(stack);
            }
        }
        return text.ToString().TrimEnd();
    }

    // Receives xunit's messages; Finished is set by the message that ends discovery or execution.
    private sealed class Sink(Action<IMessageSinkMessage> onMessage) : LongLivedMarshalByRefObject, IMessageSink, IDisposable
    {
        public ManualResetEvent Finished { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            onMessage(message);
            if (message is IDiscoveryCompleteMessage or ITestAssemblyFinished)
            {
                Finished.Set();
            }
            return true;
        }

        public void Dispose() => Finished.Dispose();
    }

    // Discovery and execution options: none set, so xunit's defaults apply (theories pre-enumerated, parallel collections).
    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> values = new(StringComparer.Ordinal);

        public TValue GetValue<TValue>(string name) =>
            values.TryGetValue(name, out object? value) && value is TValue typed ? typed : default!;

        public void SetValue<TValue>(string name, TValue value) => values[name] = value;
    }
}
