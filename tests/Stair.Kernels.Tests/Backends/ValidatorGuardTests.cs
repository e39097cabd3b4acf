// validate keeps going when a family fails on a backend: the failure is one FAIL row carrying the
// whole exception chain, and the checks after it still run.
using Stair.Kernels.Validation;

namespace Stair.Kernels.Tests.Backends;

public class ValidatorGuardTests
{
    [Fact]
    public void A_family_that_throws_on_a_backend_becomes_one_failed_row_and_the_run_goes_on()
    {
        var results = new List<ValidationResult>();
        var seen = new List<ValidationResult>();
        KernelValidator.Guard("bpr", Backend.Cuda, "4096 triples", results, seen.Add,
            () => throw new NotSupportedException("A kernel failed to compile", new InvalidOperationException("ExpF has no intrinsic")));
        bool ranAfter = false;
        KernelValidator.Guard("ranking", Backend.Cuda, "300 users", results, seen.Add, () => ranAfter = true);

        ValidationResult failed = Assert.Single(results);
        Assert.Same(failed, Assert.Single(seen));
        Assert.False(failed.Passed);
        Assert.Equal(("bpr", "cuda", "4096 triples"), (failed.Kernel, failed.Backend, failed.Size));
        Assert.Equal("NotSupportedException: A kernel failed to compile → InvalidOperationException: ExpF has no intrinsic", failed.Error);
        Assert.True(ranAfter);
    }
}
