// The storage of a CSR matrix's per-entry arrays (column indices, values). Up to an array's limit
// (Array.MaxLength elements, just under 2³¹) it is an ordinary managed array, so the spans the
// matrix hands out keep it alive; past that it is one block of native memory (a graph of 2³¹ + 2²⁰
// entries needs 8.6 GB per array), freed by the finalizer when the matrix is collected. The kernels
// address both the same way, through a pointer and 64-bit offsets.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Stair.Kernels;

internal sealed unsafe class EntryBuffer<T> where T : unmanaged
{
    private readonly T[]? _array;
    private T* _native;

    private EntryBuffer(T[] array)
    {
        _array = array;
        Length = array.Length;
    }

    private EntryBuffer(long length)
    {
        Length = length;
        // Cache-line aligned; the pages are committed on first touch, by whoever fills the buffer.
        _native = (T*)NativeMemory.AlignedAlloc((nuint)Math.Max(1, length * sizeof(T)), 64);
        GC.AddMemoryPressure(Math.Max(1, length * sizeof(T)));
    }

    ~EntryBuffer()
    {
        if (_native != null)
        {
            NativeMemory.AlignedFree(_native);
            GC.RemoveMemoryPressure(Math.Max(1, Length * sizeof(T)));
            _native = null;
        }
    }

    /// <summary>Number of elements.</summary>
    public long Length { get; }

    /// <summary>True when the elements live in native memory (more than an array holds).</summary>
    public bool IsNative => _array is null;

    /// <summary>The managed array (null for native storage).</summary>
    public T[]? Array => _array;

    /// <summary>
    /// A reference to element 0, for <c>fixed</c>: pins a managed array, and is a plain address for native
    /// memory (whose owner the caller keeps alive with <see cref="GC.KeepAlive"/> while it uses it).
    /// </summary>
    public ref T Reference => ref _array is not null ? ref MemoryMarshal.GetArrayDataReference(_array) : ref Unsafe.AsRef<T>(_native);

    /// <summary>Wraps an existing array without copying.</summary>
    public static EntryBuffer<T> Wrap(T[] array) => new(array);

    /// <summary>
    /// An uninitialized buffer of <paramref name="length"/> elements: a managed array up to an array's limit,
    /// native memory past it (or always, when <paramref name="native"/>: tests run the native path on small graphs).
    /// </summary>
    /// <exception cref="OutOfMemoryException">Native memory of that size cannot be had.</exception>
    public static EntryBuffer<T> Allocate(long length, bool native = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        return length <= System.Array.MaxLength && !native
            ? new EntryBuffer<T>(GC.AllocateUninitializedArray<T>((int)length))
            : new EntryBuffer<T>(length);
    }

    /// <summary>All elements as one span (only while they fit in one: <see cref="Length"/> ≤ <see cref="int.MaxValue"/>).</summary>
    public Span<T> Span
    {
        get
        {
            if (_array is not null)
            {
                return _array;
            }
            if (Length > int.MaxValue)
            {
                throw new NotSupportedException(
                    $"The matrix stores {Length:N0} entries, more than one span can show ({int.MaxValue:N0}); read it row by row (RowColumns, RowValues) or with CopyTo at an offset.");
            }
            return new Span<T>(_native, (int)Length);
        }
    }

    /// <summary>Elements [start, start + length).</summary>
    public Span<T> Slice(long start, int length)
    {
        if ((ulong)start > (ulong)Length || (ulong)length > (ulong)(Length - start))
        {
            throw new ArgumentOutOfRangeException(nameof(start), start, $"[{start}, {start} + {length}) is outside the {Length} entries.");
        }
        return _array is not null ? _array.AsSpan((int)start, length) : new Span<T>(_native + start, length);
    }
}
