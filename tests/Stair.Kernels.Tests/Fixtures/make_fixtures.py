# Writes the .npy / .npz fixtures for tests/Stair.Kernels.Tests/IO with numpy and scipy
# themselves, so the C# readers are checked against the real writers, not against our own.
#
# Run from anywhere (the files land next to this script):
#     /usr/bin/python3 tests/Stair.Kernels.Tests/Fixtures/make_fixtures.py
# It needs numpy and scipy (on Debian: apt-get install python3-numpy python3-scipy).
# The expected values are repeated in NpyTests.cs / NpzTests.cs; change both together.
import os

import numpy as np
import scipy.sparse as sp

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def save(name, array):
    np.save(path(name), array, allow_pickle=True)


def write_version(name, array, version):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version)


# Supported dtypes and shapes.
save("f32_2x3.npy", np.array([[1.5, -2.25, 3.0], [0.0, 0.125, 65504.0]], dtype=np.float32))
save("f64_1d.npy", np.array([0.1, -2.5, 1e10, 3.0], dtype=np.float64))
save("f64_2x2.npy", np.array([[0.1, -0.2], [1e-3, 7.0]], dtype=np.float64))
save("i32_3x2.npy", np.array([[1, -2], [3, 2**31 - 1], [-2**31, 0]], dtype=np.int32))
save("i64_1d.npy", np.array([0, -1, 2**40, 5], dtype=np.int64))
save("i64_2x2x2.npy", (np.arange(8, dtype=np.int64) - 3).reshape(2, 2, 2))
save("f32_0x3.npy", np.zeros((0, 3), dtype=np.float32))
save("f64_scalar.npy", np.array(2.5, dtype=np.float64))
save("f8_be.npy", np.array([1.0, -2.0, 3.5], dtype=">f8"))
save("i4_be.npy", np.array([1, -2, 65536], dtype=">i4"))
write_version("f32_v2.npy", np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), (2, 0))
write_version("f32_v3.npy", np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32), (3, 0))

# Things the reader must refuse with a clear message.
save("fortran.npy", np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
save("f16.npy", np.array([1.0, 2.0], dtype=np.float16))
save("str.npy", np.array(["hello", "hi"]))
save("bool.npy", np.array([True, False]))
save("obj.npy", np.array([1, "a"], dtype=object))
save("structured.npy", np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]))

# Sparse matrices: a 3 x 4 matrix with an empty middle row.
dense = np.array([[1.0, 0.0, 2.0, 0.0],
                  [0.0, 0.0, 0.0, 0.0],
                  [0.0, 3.5, 0.0, -4.0]], dtype=np.float32)
csr = sp.csr_matrix(dense)
sp.save_npz(path("csr_compressed.npz"), csr, compressed=True)
sp.save_npz(path("csr_uncompressed.npz"), csr, compressed=False)
sp.save_npz(path("csc.npz"), sp.csc_matrix(dense))
sp.save_npz(path("coo.npz"), sp.coo_matrix(dense))

# Wide index types and float64 data, as scipy keeps them when told to.
wide = sp.csr_matrix(dense.astype(np.float64))
wide.indices = wide.indices.astype(np.int64)
wide.indptr = wide.indptr.astype(np.int64)
sp.save_npz(path("csr_int64_f64.npz"), wide)

# Hand-built archives: 'format' as a unicode scalar (older scipy), and a broken indptr.
np.savez(path("csr_unicode_format.npz"), indices=csr.indices, indptr=csr.indptr,
         format=np.array("csr"), shape=np.array(csr.shape), data=csr.data)
np.savez(path("csr_bad_indptr.npz"), indices=csr.indices, indptr=np.array([0, 2, 1, 4], dtype=np.int32),
         format=b"csr", shape=np.array(csr.shape), data=csr.data)
