// Every ILGPU kernel of the library compiles to PTX, on this machine without a GPU, for the
// newest architecture the library is run on (sm_90: H100/H200) and the oldest the README claims
// (sm_60), each with the PTX ISA ILGPU picks for a current driver (CUDA 13) and for the oldest
// driver the architecture needs. The kernels are found in the IL of the kernel sets' constructors
// (every delegate they hand to ILGPU's Load*Kernel), and a second test fails if any code outside
// a kernel set loads a kernel, so a new kernel cannot be left out. The ILGPU context is built by
// the library's own configuration for CUDA (IlgpuDevice.Configure), so a kernel that needs
// ILGPU.Algorithms fails here if the library forgets to enable it.
using System.Reflection;
using System.Reflection.Emit;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Stair.Kernels.Gpu;

namespace Stair.Kernels.Tests.Backends;

public class PtxCompileTests
{
    public static TheoryData<string, int, int> Targets() => new()
    {
        { "sm_90", 13, 0 },  // H100/H200 on a CUDA 13 driver (the first GPU this library meets: driver 580)
        { "sm_90", 11, 8 },  // the oldest driver that knows sm_90
        { "sm_60", 13, 0 },  // the oldest architecture the README claims
        { "sm_60", 11, 0 },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_kernel_compiles_to_ptx(string architecture, int driverMajor, int driverMinor)
    {
        CudaArchitecture arch = architecture == "sm_90" ? CudaArchitecture.SM_90 : CudaArchitecture.SM_60;
        CudaInstructionSet isa = CudaAccelerator.GetInstructionSet(arch, CudaDriverVersion.FromMajorMinor(driverMajor, driverMinor));
        using Context context = Context.Create(b => IlgpuDevice.Configure(b, Backend.Cuda));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, isa, nvvmAPI: null);
        var kernels = KernelInventory.All();
        Assert.True(kernels.Count >= 14, $"found only {kernels.Count} kernels: {string.Join(", ", kernels.Select(k => k.Name))}");
        var failures = new List<string>();
        foreach (KernelInventory.Kernel kernel in kernels)
        {
            try
            {
                EntryPointDescription entry = kernel.ImplicitlyGrouped
                    ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method)
                    : EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method);
                CompiledKernel compiled = backend.Compile(entry, KernelSpecialization.Empty);
                string ptx = ((PTXCompiledKernel)compiled).PTXAssembly;
                if (Environment.GetEnvironmentVariable("STAIR_PTX_DUMP") is { Length: > 0 } dump)
                {
                    Directory.CreateDirectory(dump);
                    File.WriteAllText(Path.Combine(dump, $"{kernel.Name}.{architecture}.isa{isa.Major}{isa.Minor}.ptx"), ptx);
                }
                if (!ptx.Contains(".entry", StringComparison.Ordinal) || !ptx.Contains($".version {isa.Major}.{isa.Minor}", StringComparison.Ordinal))
                {
                    failures.Add($"{kernel.Name}: the PTX has no entry or not ISA {isa}");
                }
            }
            catch (Exception ex)
            {
                failures.Add($"{kernel.Name}: {ex.GetType().Name}: {ex.Message}");
                context.ClearCache(ClearCacheMode.Everything); // one failed compile must not hide the next kernel's result
            }
        }
        Assert.True(failures.Count == 0, $"{architecture}, PTX ISA {isa}:\n" + string.Join("\n", failures));
    }

    [Fact]
    public void Kernels_are_loaded_only_by_kernel_sets()
    {
        var outside = new List<string>();
        Assembly library = typeof(ComputeContext).Assembly;
        foreach (Type type in library.GetTypes())
        {
            foreach (MethodBase method in KernelInventory.MethodsOf(type))
            {
                foreach ((OpCode op, MethodBase? target) in KernelInventory.Calls(method))
                {
                    if ((op == OpCodes.Call || op == OpCodes.Callvirt) && target is not null && KernelInventory.IsKernelLoader(target)
                        && !KernelInventory.IsKernelSet(type))
                    {
                        outside.Add($"{type.FullName}.{method.Name} calls {target.Name}");
                    }
                }
            }
        }
        Assert.True(outside.Count == 0, "kernels loaded outside a kernel set (IKernelSet<T>), where the PTX test cannot see them:\n" + string.Join("\n", outside));
    }

    [Fact]
    public void The_inventory_finds_the_known_kernels()
    {
        // The IL walk is the test's only source of kernels: pin a few it must find, so a broken walk cannot pass as "no kernels".
        var names = KernelInventory.All().Select(k => k.Name).ToHashSet();
        Assert.Contains("PropagationKernels.LayerKernel", names);
        Assert.Contains("BprLossKernels.ScoreKernel", names);
        Assert.Contains("EmbeddingUpdateKernels.MomentsKernel", names);
        Assert.Contains("DenseKernels.MultiplyKernel", names);
    }
}

/// <summary>The ILGPU kernels of the library, read from the IL of the kernel sets.</summary>
internal static class KernelInventory
{
    internal sealed record Kernel(string Name, MethodInfo Method, bool ImplicitlyGrouped);

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    public static List<Kernel> All()
    {
        var kernels = new Dictionary<MethodInfo, Kernel>();
        foreach (Type type in typeof(ComputeContext).Assembly.GetTypes().Where(IsKernelSet))
        {
            foreach (MethodBase method in MethodsOf(type))
            {
                foreach ((OpCode op, MethodBase? target) in Calls(method))
                {
                    if (op == OpCodes.Ldftn && target is MethodInfo m && m.IsStatic && m.GetParameters().Length > 0 && !kernels.ContainsKey(m))
                    {
                        Type first = m.GetParameters()[0].ParameterType;
                        bool implicitly = first.Namespace == "ILGPU" && (first.Name.StartsWith("Index", StringComparison.Ordinal) || first.Name.StartsWith("LongIndex", StringComparison.Ordinal));
                        kernels[m] = new Kernel($"{m.DeclaringType!.Name}.{m.Name}", m, implicitly);
                    }
                }
            }
        }
        return kernels.Values.OrderBy(k => k.Name, StringComparer.Ordinal).ToList();
    }

    public static bool IsKernelSet(Type type)
    {
        for (Type? t = type; t is not null; t = t.DeclaringType) // lambdas live in nested compiler-generated types
        {
            if (t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IKernelSet<>)))
            {
                return true;
            }
        }
        return false;
    }

    public static bool IsKernelLoader(MethodBase method)
        => method.DeclaringType?.Assembly == typeof(Accelerator).Assembly && method.Name.StartsWith("Load", StringComparison.Ordinal)
            && method.Name.EndsWith("Kernel", StringComparison.Ordinal);

    public static IEnumerable<MethodBase> MethodsOf(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        return type.GetConstructors(all).Cast<MethodBase>().Concat(type.GetMethods(all));
    }

    /// <summary>Every instruction of <paramref name="method"/> whose operand is a method (call, callvirt, ldftn, newobj, …).</summary>
    public static IEnumerable<(OpCode Op, MethodBase? Target)> Calls(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            OpCode op = OpCodesByValue[value];
            if (op.OperandType == OperandType.InlineMethod)
            {
                MethodBase? target = null;
                try
                {
                    target = method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs);
                }
                catch (ArgumentException)
                {
                    // a vararg or otherwise unresolvable token: not a kernel
                }
                yield return (op, target);
            }
            i += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
        }
    }
}
