// ComputeContext's modality-initialization entry points: batched whitening (and the user table
// it implies) and the item–item kNN graph, on the context's backend. The math and the
// validation are those of the host entry points (Whitening.Whiten, KnnGraph.Build/TopK); the
// backend supplies the whitening device and the kNN block screen.
namespace Stair.Kernels;

public sealed partial class ComputeContext
{
    /// <summary>Whitens and fuses <paramref name="modalities"/> on this context's backend (see <see cref="Kernels.Whitening"/> for the math).</summary>
    /// <param name="modalities">One or more modalities, each with one row per item (the same item count).</param>
    /// <param name="options">Width, method and tolerances (defaults: d = 64, exact).</param>
    /// <exception cref="ArgumentException">Shapes disagree, a weight is not finite and positive, or a feature is NaN/Inf
    /// (the message names the modality, row and column).</exception>
    public WhiteningResult Whiten(IReadOnlyList<WhiteningModality> modalities, WhiteningOptions? options = null)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return Kernels.Whitening.Whiten(this, modalities, options);
        }
    }

    /// <summary>
    /// The user table E_user = R_left·E_item of a whitening result, computed on this context's backend
    /// (see <see cref="WhiteningResult.UserTable(CsrMatrix, CpuOptions?)"/>).
    /// </summary>
    public float[] UserTable(WhiteningResult whitened, CsrMatrix leftNormalizedInteractions)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ArgumentNullException.ThrowIfNull(whitened);
            return whitened.UserTable(this, leftNormalizedInteractions);
        }
    }

    /// <summary>
    /// Builds S̃ with the similarity blocks computed on this context's device (see <see cref="Kernels.KnnGraph.Build(int, IReadOnlyList{KnnModality}, CpuOptions?)"/>);
    /// the result is the same graph on every backend.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes disagree, k is out of range, or a feature is NaN/Inf (the message names the modality, row and column).</exception>
    public CsrMatrix BuildKnnGraph(int items, IReadOnlyList<KnnModality> modalities)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return Kernels.KnnGraph.Build(this, items, modalities);
        }
    }

    /// <summary>
    /// Each item's top-k neighbours (see <see cref="Kernels.KnnGraph.TopK(int, KnnModality, CpuOptions?)"/>) with the similarity
    /// blocks computed on this context's device; the same indices on every backend.
    /// </summary>
    public int[] KnnTopK(int items, KnnModality modality)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return Kernels.KnnGraph.TopK(this, items, modality);
        }
    }
}
