// How the C references are built and loaded: the flags of build.sh, the instruction set compiled,
// the per-process cache, and a failing compile's reason.
using System.Runtime.Intrinsics.X86;
using Stair.Kernels.Benchmarks.Native;
using static Stair.Kernels.Benchmarks.Tests.Native.NativeTestSupport;

namespace Stair.Kernels.Benchmarks.Tests.Native;

public sealed class NativeBuildTests
{
    [Fact]
    public void BuildScript_UsesTheFlagsOfTheRuntimeBuild()
    {
        string script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "native", "build.sh"));
        Assert.Contains($"gcc {string.Join(' ', NativeReference.CompilerFlags)} -o ", script);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "native", "stair_ref.c")), "stair_ref.c is copied next to the benchmark assembly");
    }

    [SkippableFact]
    public void TryLoad_IsCachedPerProcess_AndReportsTheNativeInstructionSet()
    {
        NativeReference native = Require();
        Assert.Same(native, NativeReference.TryLoad(out string? reason));
        Assert.Null(reason);
        Assert.True(File.Exists(native.LibraryPath));
        Assert.False(string.IsNullOrWhiteSpace(native.Compiler));
        int expected = Avx512F.IsSupported ? 512 : Avx2.IsSupported && Fma.IsSupported ? 256 : 1;
        Assert.Equal(expected, native.Isa); // -march=native: what this CPU runs
    }

    [SkippableFact]
    public void Build_WithAFlagGccRejects_ReturnsGccsErrorLine()
    {
        Skip.IfNot(NativeReference.CompilerAvailable, "gcc is not available on this machine");
        (NativeReference? native, string? reason) = NativeReference.Build([.. NativeReference.CompilerFlags, "-fno-such-flag-stair"]);
        Assert.Null(native);
        Assert.NotNull(reason);
        Assert.Contains("gcc failed", reason);
        Assert.Contains("-fno-such-flag-stair", reason);
        Assert.DoesNotContain('\n', reason);
    }
}
