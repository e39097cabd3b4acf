// One line for an exception and every inner exception, outermost first: what a device error
// report needs (ILGPU wraps driver and compiler failures several levels deep).
using System.Text;
using ILGPU.Runtime.OpenCL;

namespace Stair.Kernels;

internal static class ExceptionText
{
    /// <summary>"Type: message → InnerType: message → …".</summary>
    public static string Chain(Exception ex)
    {
        var text = new StringBuilder();
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (text.Length > 0)
            {
                text.Append(" → ");
            }
            text.Append(e.GetType().Name).Append(": ").Append(Message(e));
        }
        return text.ToString();
    }

    /// <summary>
    /// The exception's message, with the OpenCL error code where ILGPU's exception carries one: a
    /// <see cref="CLException"/> made from an error code has only the default "Exception of type … was thrown."
    /// as its message, so the code is the one clue to what the driver refused. (ILGPU's CudaException asks the
    /// driver for the error's text, so its message says it already.)
    /// </summary>
    public static string Message(Exception e) => e switch
    {
        CLException cl => $"{e.Message} [OpenCL error {cl.Error} ({(int)cl.Error})]",
        _ => e.Message,
    };
}
