// A 1-D .npy member read front to back in pieces, for CSR members too long for one array
// (2³¹ entries and more): int32/int64 indices narrowed to int32, float32/float64/integer data
// converted to float32, each with the same checks the whole-array readers make.
using System.Buffers.Binary;
using System.Globalization;

namespace Stair.Kernels.IO;

internal sealed class StreamedVector
{
    private const int BufferBytes = 1 << 20;

    private readonly Stream _stream;
    private readonly string _name;
    private readonly NpyDataType _type;
    private readonly bool _bigEndian;
    private readonly int _itemSize;
    private readonly byte[] _buffer = new byte[BufferBytes];
    private int _bufferStart, _bufferEnd;
    private long _position;

    /// <summary>Reads the member's header; the stream is then at its first element.</summary>
    /// <param name="stream">The member's stream.</param>
    /// <param name="name">Names the member in messages.</param>
    /// <param name="integer">True for indices (int32 or int64 only); false for data (any numeric type).</param>
    public StreamedVector(Stream stream, string name, bool integer)
    {
        _stream = stream;
        _name = name;
        NpyHeader header = NpyHeader.Read(stream, name, allowStrings: false, longVector: true);
        if (header.Extents.Length != 1)
        {
            throw new NpyFormatException($"{name} has shape {NpyArray.FormatShape(header.Extents)}; a 1-D array was expected.");
        }
        NpyDataType type = header.DataType!.Value;
        if (integer && type is not (NpyDataType.Int32 or NpyDataType.Int64))
        {
            throw new NpyFormatException($"{name} holds {type.Name()} elements; an int32 or int64 array was expected.");
        }
        _type = type;
        _itemSize = header.ItemSize;
        _bigEndian = !header.LittleEndian;
        Count = header.Count;
    }

    /// <summary>Elements the header declares.</summary>
    public long Count { get; }

    /// <summary>The next destination.Length elements as int32 (int64 elements range-checked).</summary>
    public void ReadInt32(Span<int> destination)
    {
        for (int k = 0; k < destination.Length; k++)
        {
            ReadOnlySpan<byte> item = Next();
            if (_type == NpyDataType.Int32)
            {
                destination[k] = _bigEndian ? BinaryPrimitives.ReadInt32BigEndian(item) : BinaryPrimitives.ReadInt32LittleEndian(item);
            }
            else
            {
                long v = _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(item) : BinaryPrimitives.ReadInt64LittleEndian(item);
                if (v < int.MinValue || v > int.MaxValue)
                {
                    throw new NpyFormatException($"{_name}: Element {_position - 1} of the int64 array is {v.ToString(CultureInfo.InvariantCulture)}, outside the int32 range.");
                }
                destination[k] = (int)v;
            }
        }
    }

    /// <summary>The next destination.Length elements as float32 (float64 rounded; a finite one past float32's range is refused).</summary>
    public void ReadFloat(Span<float> destination)
    {
        for (int k = 0; k < destination.Length; k++)
        {
            ReadOnlySpan<byte> item = Next();
            switch (_type)
            {
                case NpyDataType.Float32:
                    destination[k] = _bigEndian ? BinaryPrimitives.ReadSingleBigEndian(item) : BinaryPrimitives.ReadSingleLittleEndian(item);
                    break;
                case NpyDataType.Float64:
                    double d = _bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(item) : BinaryPrimitives.ReadDoubleLittleEndian(item);
                    float f = (float)d;
                    if (double.IsFinite(d) && !float.IsFinite(f))
                    {
                        throw new NpyFormatException($"{_name}: Element {_position - 1} of the float64 array is {d.ToString("R", CultureInfo.InvariantCulture)}, outside the float32 range.");
                    }
                    destination[k] = f;
                    break;
                case NpyDataType.Int32:
                    destination[k] = _bigEndian ? BinaryPrimitives.ReadInt32BigEndian(item) : BinaryPrimitives.ReadInt32LittleEndian(item);
                    break;
                default:
                    destination[k] = _bigEndian ? BinaryPrimitives.ReadInt64BigEndian(item) : BinaryPrimitives.ReadInt64LittleEndian(item);
                    break;
            }
        }
    }

    // The next element's bytes, refilling the buffer from the stream as it empties.
    private ReadOnlySpan<byte> Next()
    {
        if (_position == Count)
        {
            throw new NpyFormatException($"{_name} holds {Count} elements; more were asked for.");
        }
        if (_bufferEnd - _bufferStart < _itemSize)
        {
            int left = _bufferEnd - _bufferStart;
            _buffer.AsSpan(_bufferStart, left).CopyTo(_buffer);
            long wanted = Math.Min(BufferBytes - left, (Count - _position) * _itemSize - left);
            int got = _stream.ReadAtLeast(_buffer.AsSpan(left, (int)wanted), (int)wanted, throwOnEndOfStream: false);
            _bufferStart = 0;
            _bufferEnd = left + got;
            if (_bufferEnd < _itemSize)
            {
                throw new NpyFormatException($"{_name} is truncated: its {Count} elements need {Count * _itemSize} bytes of data after the header, but only {_position * _itemSize + _bufferEnd} are there.");
            }
        }
        _position++;
        ReadOnlySpan<byte> item = _buffer.AsSpan(_bufferStart, _itemSize);
        _bufferStart += _itemSize;
        return item;
    }
}
