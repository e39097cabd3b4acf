// One line for an exception and every inner exception, outermost first: what a device error
// report needs (ILGPU wraps driver and compiler failures several levels deep).
using System.Text;

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
            text.Append(e.GetType().Name).Append(": ").Append(e.Message);
        }
        return text.ToString();
    }
}
