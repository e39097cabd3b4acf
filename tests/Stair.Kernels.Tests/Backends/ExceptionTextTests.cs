// Device error reports keep the OpenCL error code: ILGPU's CLException made from a code carries only the default "Exception of type … was thrown." message, so without the code a failed kernel load on
// a driver (as once seen from PoCL's clCreateKernel in CI) says nothing about what the driver refused.
using ILGPU.Runtime.OpenCL;

namespace Stair.Kernels.Tests.Backends;

public class ExceptionTextTests
{
    [Fact]
    public void OpenCL_exceptions_name_their_error_code_in_the_chain()
    {
        var cl = new CLException(CLError.CL_SUCCESS - 45); // CL_INVALID_PROGRAM_EXECUTABLE
        var chain = new InvalidOperationException("Loading the kernel failed.", new AggregateException("outer", cl));

        Assert.Contains("[OpenCL error ", ExceptionText.Message(cl));
        Assert.EndsWith("(-45)]", ExceptionText.Message(cl));
        Assert.Equal("plain", ExceptionText.Message(new InvalidOperationException("plain")));
        string text = ExceptionText.Chain(chain);
        Assert.StartsWith("InvalidOperationException: Loading the kernel failed. → AggregateException: outer", text);
        Assert.EndsWith($"CLException: {cl.Message} [OpenCL error {cl.Error} (-45)]", text);
    }
}
