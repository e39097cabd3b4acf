// Kernel bodies are compiled once, fully optimized, and never inlined into their dispatcher.
// A body marked only AggressiveOptimization may still be inlined when the small generic
// dispatcher above it (SimdDispatch.Run, a job's Execute) is re-jitted at tier 1; the body then
// shares the dispatcher's inlining budget and its own inlinees (the row epilogue of FSC, the
// vector operations) can become calls. That cost FSC 10–25 % on Baby until every body also
// carried NoInlining. The rule is checked here over the whole assembly: a method that asks for
// AggressiveOptimization must also say NoInlining, except the leaf helpers below, which are
// called from inside other bodies (already fully optimized) and gain nothing from a call.
using System.Reflection;

namespace Stair.Kernels.Tests.Cpu;

public class KernelBodyCompilationTests
{
    // Leaf helpers: small loops called per row or per pivot from inside a body.
    private static readonly HashSet<string> Leaves =
    [
        "SymmetricEigensolver.Factor", "SymmetricEigensolver.Solve", "SymmetricEigensolver.Dot",
        "SymmetricEigensolver.DotAxpy", "SymmetricEigensolver.Axpy", "SymmetricEigensolver.Rank2",
        "KnnExact.Dot",
    ];

    [Fact]
    public void Every_fully_optimized_body_is_also_never_inlined()
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        var bodies = new List<string>();
        var offenders = new List<string>();
        foreach (Type type in typeof(ComputeContext).Assembly.GetTypes())
        {
            foreach (MethodInfo method in type.GetMethods(all))
            {
                MethodImplAttributes flags = method.MethodImplementationFlags;
                if ((flags & MethodImplAttributes.AggressiveOptimization) == 0)
                {
                    continue;
                }
                string name = $"{OuterName(type)}.{method.Name}";
                bodies.Add(name);
                if ((flags & MethodImplAttributes.NoInlining) == 0 && !Leaves.Contains(name))
                {
                    offenders.Add(name);
                }
            }
        }
        Assert.Contains("SpmmDrivers.Rows", bodies); // the rule is looked for where it matters most
        Assert.True(offenders.Count == 0, "AggressiveOptimization without NoInlining: " + string.Join(", ", offenders));
        Assert.All(Leaves, leaf => Assert.Contains(leaf, bodies)); // no stale allowance
    }

    // The declaring type outside compiler-generated and nested kernel structs (KnnExact+Kernel → KnnExact).
    private static string OuterName(Type type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }
        return type.Name;
    }
}
