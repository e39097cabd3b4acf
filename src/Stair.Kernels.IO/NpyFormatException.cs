// The one exception type for .npy / .npz content this library cannot read, so callers can
// tell "the file is bad or unsupported" apart from IO failures and argument mistakes.
namespace Stair.Kernels.IO;

/// <summary>
/// Thrown when a .npy or .npz file is malformed (bad magic string, unparsable header,
/// truncated data, inconsistent members) or holds something this library does not read
/// (an unsupported dtype, Fortran order, a sparse format other than CSR/CSC). The message
/// names the file, or the stream, and what is wrong.
/// </summary>
public sealed class NpyFormatException : FormatException
{
    /// <summary>Creates the exception with a default message.</summary>
    public NpyFormatException()
        : base("The data is not a .npy or .npz file this library can read.")
    {
    }

    /// <summary>Creates the exception with the given message.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    public NpyFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the given message and the exception that caused it.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="innerException">The underlying failure (for example the CSR validation error).</param>
    public NpyFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
