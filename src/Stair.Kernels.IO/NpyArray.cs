// The contents of one .npy file: shape, element type and the elements in C (row-major)
// order, with typed views and the conversions callers usually want (float64 → float32,
// int64 → int32) done once, with explicit range checks instead of silent wrap-around.
using System.Collections.ObjectModel;
using System.Globalization;
using System.Numerics;

namespace Stair.Kernels.IO;

/// <summary>
/// An n-dimensional array read from a .npy file: its <see cref="Shape"/>, its
/// <see cref="DataType"/> and its elements in C (row-major) order. Instances are immutable.
/// </summary>
/// <remarks>
/// Use <see cref="AsSpan{T}"/> to look at the elements without copying when you know the
/// element type, or one of the <c>To…Array</c> methods to get a fresh array of the type you
/// need, converting where that is safe (see each method). A 0-dimensional (scalar) array has
/// an empty <see cref="Shape"/> and one element.
/// </remarks>
public sealed class NpyArray
{
    // Exactly one of float[], double[], int[] or long[], matching DataType.
    private readonly Array _data;
    private readonly int[] _shape;

    internal NpyArray(NpyDataType dataType, int[] shape, Array data)
    {
        DataType = dataType;
        _shape = shape;
        _data = data;
        Shape = Array.AsReadOnly(shape);
    }

    /// <summary>The element type.</summary>
    public NpyDataType DataType { get; }

    /// <summary>The extent of each dimension, outermost first; empty for a 0-dimensional (scalar) array.</summary>
    public ReadOnlyCollection<int> Shape { get; }

    /// <summary>The number of dimensions (0 for a scalar).</summary>
    public int Rank => _shape.Length;

    /// <summary>The number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public int Length => _data.Length;

    /// <summary>
    /// The elements, without copying, when <typeparamref name="T"/> is the element type
    /// (<see cref="float"/> for <see cref="NpyDataType.Float32"/>, <see cref="double"/> for
    /// <see cref="NpyDataType.Float64"/>, <see cref="int"/> for <see cref="NpyDataType.Int32"/>,
    /// <see cref="long"/> for <see cref="NpyDataType.Int64"/>).
    /// </summary>
    /// <typeparam name="T">The element type to view the data as.</typeparam>
    /// <exception cref="InvalidOperationException"><typeparamref name="T"/> is not the element type.</exception>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged
    {
        if (_data is T[] typed)
        {
            return typed;
        }
        throw new InvalidOperationException($"The array holds {DataType.Name()} elements; AsSpan<{typeof(T).Name}>() cannot view them. Use the matching element type or a To…Array() conversion.");
    }

    /// <summary>
    /// A new <see cref="float"/> array of the elements. float64 values are rounded to the
    /// nearest float32; integers are converted exactly up to 2^24 in magnitude and rounded to
    /// the nearest float32 beyond that.
    /// </summary>
    /// <exception cref="OverflowException">A finite float64 element lies outside the float32
    /// range; the message names its flat index. (NaN and infinities carry over unchanged.)</exception>
    public float[] ToFloatArray() => _data is float[] f ? (float[])f.Clone() : ConvertToFloat();

    /// <summary>
    /// A new <see cref="double"/> array of the elements. float32 and int32 convert exactly;
    /// int64 converts exactly up to 2^53 in magnitude and is rounded to the nearest float64 beyond that.
    /// </summary>
    public double[] ToDoubleArray()
    {
        switch (_data)
        {
            case double[] d:
                return (double[])d.Clone();
            case float[] f:
                return Convert<float, double>(f);
            case int[] i:
                return Convert<int, double>(i);
            default:
                return Convert<long, double>((long[])_data);
        }
    }

    /// <summary>A new <see cref="int"/> array of the elements of an int32 or int64 array.</summary>
    /// <exception cref="InvalidOperationException">The array holds floating-point elements.</exception>
    /// <exception cref="OverflowException">An int64 element lies outside the int32 range; the
    /// message names its flat index and value.</exception>
    public int[] ToInt32Array()
    {
        switch (_data)
        {
            case int[] i:
                return (int[])i.Clone();
            case long[] l:
                var result = new int[l.Length];
                for (int k = 0; k < l.Length; k++)
                {
                    long v = l[k];
                    if (v < int.MinValue || v > int.MaxValue)
                    {
                        throw new OverflowException($"Element {k} of the int64 array is {v.ToString(CultureInfo.InvariantCulture)}, outside the int32 range.");
                    }
                    result[k] = (int)v;
                }
                return result;
            default:
                throw NotInteger("ToInt32Array");
        }
    }

    /// <summary>A new <see cref="long"/> array of the elements of an int32 or int64 array.</summary>
    /// <exception cref="InvalidOperationException">The array holds floating-point elements.</exception>
    public long[] ToInt64Array() => _data switch
    {
        long[] l => (long[])l.Clone(),
        int[] i => Convert<int, long>(i),
        _ => throw NotInteger("ToInt64Array"),
    };

    /// <summary>A short description such as <c>NpyArray(float32, shape (2, 3))</c>.</summary>
    /// <returns>The element type and shape.</returns>
    public override string ToString() => $"NpyArray({DataType.Name()}, shape {FormatShape(_shape)})";

    /// <summary>The shape in Python tuple notation, as numpy prints it: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    internal static string FormatShape(ReadOnlySpan<int> shape)
    {
        var extents = new long[shape.Length];
        for (int k = 0; k < shape.Length; k++)
        {
            extents[k] = shape[k];
        }
        return FormatShape(extents);
    }

    /// <summary>The shape in Python tuple notation, as numpy prints it: <c>()</c>, <c>(5,)</c>, <c>(2, 3)</c>.</summary>
    internal static string FormatShape(ReadOnlySpan<long> shape)
    {
        if (shape.Length == 1)
        {
            return $"({shape[0].ToString(CultureInfo.InvariantCulture)},)";
        }
        var parts = new string[shape.Length];
        for (int k = 0; k < shape.Length; k++)
        {
            parts[k] = shape[k].ToString(CultureInfo.InvariantCulture);
        }
        return "(" + string.Join(", ", parts) + ")";
    }

    internal ReadOnlySpan<int> ShapeSpan => _shape;

    internal Array Data => _data;

    /// <summary>
    /// The float32 elements: the backing array itself when the array is float32 (for callers
    /// that discard this instance, so a large table is not copied), else a conversion.
    /// </summary>
    internal float[] TakeFloatArray() => _data as float[] ?? ConvertToFloat();

    /// <summary>The int32 elements: the backing array itself when already int32, else a checked conversion.</summary>
    internal int[] TakeInt32Array() => _data as int[] ?? ToInt32Array();

    private float[] ConvertToFloat()
    {
        switch (_data)
        {
            case double[] d:
                var result = new float[d.Length];
                for (int k = 0; k < d.Length; k++)
                {
                    float v = (float)d[k];
                    if (float.IsInfinity(v) && double.IsFinite(d[k]))
                    {
                        throw new OverflowException($"Element {k} of the float64 array is {d[k].ToString("R", CultureInfo.InvariantCulture)}, outside the float32 range.");
                    }
                    result[k] = v;
                }
                return result;
            case int[] i:
                return Convert<int, float>(i);
            default:
                return Convert<long, float>((long[])_data);
        }
    }

    // Generic math instead of a delegate so the JIT specializes each pair to a plain cast loop;
    // every pair used here is a widening or round-to-nearest conversion, never a truncation.
    private static TOut[] Convert<TIn, TOut>(TIn[] source)
        where TIn : INumberBase<TIn>
        where TOut : INumberBase<TOut>
    {
        var result = new TOut[source.Length];
        for (int k = 0; k < source.Length; k++)
        {
            result[k] = TOut.CreateTruncating(source[k]);
        }
        return result;
    }

    private InvalidOperationException NotInteger(string method) =>
        new($"The array holds {DataType.Name()} elements; {method}() converts only int32 and int64 arrays. Use ToFloatArray() or ToDoubleArray().");
}
