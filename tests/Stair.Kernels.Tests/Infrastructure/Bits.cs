// Bitwise comparison of float and double results. Assert.Equal and SequenceEqual on floats
// use float.Equals, for which +0 equals −0 and every NaN equals every other NaN: a claim of
// bitwise identity has to compare the IEEE bit patterns instead.
namespace Stair.Kernels.Tests.Infrastructure;

public static class Bits
{
    /// <summary>Fails unless both spans have the same length and the same bit pattern in every element, naming the first that differs.</summary>
    public static void AssertBitsEqual(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            Assert.Fail($"{what}: length {actual.Length}, expected {expected.Length}.");
        }
        for (int k = 0; k < expected.Length; k++)
        {
            int e = BitConverter.SingleToInt32Bits(expected[k]), a = BitConverter.SingleToInt32Bits(actual[k]);
            if (e != a)
            {
                Assert.Fail($"{what}: element {k} is 0x{a:X8} ({actual[k]:R}), expected 0x{e:X8} ({expected[k]:R}) bit for bit"
                    + $" ({Count(expected, actual)} of {expected.Length} elements differ).");
            }
        }
    }

    /// <summary>The double variant of <see cref="AssertBitsEqual(ReadOnlySpan{float}, ReadOnlySpan{float}, string)"/>.</summary>
    public static void AssertBitsEqual(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        if (expected.Length != actual.Length)
        {
            Assert.Fail($"{what}: length {actual.Length}, expected {expected.Length}.");
        }
        for (int k = 0; k < expected.Length; k++)
        {
            long e = BitConverter.DoubleToInt64Bits(expected[k]), a = BitConverter.DoubleToInt64Bits(actual[k]);
            if (e != a)
            {
                Assert.Fail($"{what}: element {k} is 0x{a:X16} ({actual[k]:R}), expected 0x{e:X16} ({expected[k]:R}) bit for bit.");
            }
        }
    }

    /// <summary>One double, bit for bit.</summary>
    public static void AssertBitsEqual(double expected, double actual, string what)
        => AssertBitsEqual([expected], [actual], what);

    /// <summary>True when both spans hold the same bit patterns.</summary>
    public static bool Equal(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
        => a.Length == b.Length && Count(a, b) == 0;

    private static int Count(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = 0;
        for (int k = 0; k < a.Length; k++)
        {
            n += BitConverter.SingleToInt32Bits(a[k]) != BitConverter.SingleToInt32Bits(b[k]) ? 1 : 0;
        }
        return n;
    }
}
