// The element types this library reads from and writes to .npy files, and the facts
// about each (size, numpy type string) that the reader and writer share.
namespace Stair.Kernels.IO;

/// <summary>The element type of an <see cref="NpyArray"/>; the numeric numpy dtypes this library supports.</summary>
public enum NpyDataType
{
    /// <summary>32-bit IEEE float, numpy <c>float32</c> (<c>'&lt;f4'</c>).</summary>
    Float32,

    /// <summary>64-bit IEEE float, numpy <c>float64</c> (<c>'&lt;f8'</c>).</summary>
    Float64,

    /// <summary>32-bit signed integer, numpy <c>int32</c> (<c>'&lt;i4'</c>).</summary>
    Int32,

    /// <summary>64-bit signed integer, numpy <c>int64</c> (<c>'&lt;i8'</c>).</summary>
    Int64,
}

internal static class NpyDataTypes
{
    public static int ItemSize(this NpyDataType type) => type switch
    {
        NpyDataType.Float32 or NpyDataType.Int32 => 4,
        _ => 8,
    };

    /// <summary>The little-endian numpy type string the writer puts in a header.</summary>
    public static string Descr(this NpyDataType type) => type switch
    {
        NpyDataType.Float32 => "<f4",
        NpyDataType.Float64 => "<f8",
        NpyDataType.Int32 => "<i4",
        _ => "<i8",
    };

    public static string Name(this NpyDataType type) => type switch
    {
        NpyDataType.Float32 => "float32",
        NpyDataType.Float64 => "float64",
        NpyDataType.Int32 => "int32",
        _ => "int64",
    };
}
