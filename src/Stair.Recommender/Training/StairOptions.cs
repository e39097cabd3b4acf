// Hyperparameters and ablation switches of a STAIR training run. Defaults follow the
// paper's settings (d 64, L 3, batch 1,024, lr 1e-3, AdamW, evaluation every 5 epochs,
// model selection on validation NDCG@20) except where a comment says otherwise.
using Stair.Kernels;

namespace Stair.Recommender.Training;

/// <summary>Options of <see cref="StairTrainer"/>. Validated by <see cref="Validate"/> before any work starts.</summary>
public sealed record StairOptions
{
    /// <summary>Where the kernels run.</summary>
    public Backend Backend { get; init; } = Backend.Cpu;

    /// <summary>Maximum training epochs (early stopping may end sooner).</summary>
    public int Epochs { get; init; } = 200;

    /// <summary>Positive interactions per batch (each gets one sampled negative).</summary>
    public int BatchSize { get; init; } = 1024;

    /// <summary>AdamW learning rate (users and items).</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Decoupled weight decay of AdamW (users and items).</summary>
    public float WeightDecay { get; init; } = 0.1f;

    /// <summary>γ of the per-dimension strengths b_j = 0.1 + 0.9 (j/d)^γ (FSC uses 1 − b, BSC uses b).</summary>
    public double Gamma { get; init; } = 0.2;

    /// <summary>Propagation layers L (FSC and BSC).</summary>
    public int Layers { get; init; } = 3;

    /// <summary>Embedding width d.</summary>
    public int Dim { get; init; } = 64;

    /// <summary>kNN k per modality (in the data set's modality order); null takes each modality's default. Also the fusion weights of the modality initialization.</summary>
    public IReadOnlyList<int>? Knn { get; init; }

    /// <summary>Evaluate on the validation split every this many epochs.</summary>
    public int EvalEvery { get; init; } = 5;

    /// <summary>Stop after this many evaluations without a better validation NDCG@20 (0 never stops early).</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Seed of the initialization (when random), the shuffles and the negative samples.</summary>
    public ulong Seed { get; init; } = 2025;

    /// <summary>Cut-offs K of Recall@K / NDCG@K (20 is always included: model selection uses it).</summary>
    public IReadOnlyList<int> Cutoffs { get; init; } = [10, 20, 50];

    /// <summary>STAIR's modality initialization (whitened features); false starts from N(0, 0.1²) as LightGCN does.</summary>
    public bool ModalityInit { get; init; } = true;

    /// <summary>Forward stepwise convolution; false propagates with LightGCN's equal layer weights 1/(L+1).</summary>
    public bool Fsc { get; init; } = true;

    /// <summary>Backward stepwise convolution of the item update over the kNN graph; false updates items with plain AdamW.</summary>
    public bool Bsc { get; init; } = true;

    /// <summary>Directory for checkpoints of the best epoch's embedding tables (users.npy, items.npy); null writes none.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>The LightGCN baseline: random init, equal layer weights, plain AdamW.</summary>
    public StairOptions AsLightGcn() => this with { ModalityInit = false, Fsc = false, Bsc = false };

    /// <summary>Checks every option; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Backend))
        {
            throw new ArgumentException($"Unknown backend {Backend}.", nameof(Backend));
        }
        Positive(Epochs, nameof(Epochs));
        Positive(BatchSize, nameof(BatchSize));
        Positive(Dim, nameof(Dim));
        Positive(EvalEvery, nameof(EvalEvery));
        if (Layers < 0)
        {
            throw new ArgumentException($"Layers must be ≥ 0, got {Layers}.", nameof(Layers));
        }
        if (Patience < 0)
        {
            throw new ArgumentException($"Patience must be ≥ 0, got {Patience}.", nameof(Patience));
        }
        if (!float.IsFinite(LearningRate) || LearningRate <= 0)
        {
            throw new ArgumentException($"The learning rate must be finite and > 0, got {LearningRate}.", nameof(LearningRate));
        }
        if (!float.IsFinite(WeightDecay) || WeightDecay < 0 || LearningRate * WeightDecay >= 1)
        {
            throw new ArgumentException($"The weight decay must be finite, ≥ 0 and below 1/lr, got {WeightDecay}.", nameof(WeightDecay));
        }
        if (!double.IsFinite(Gamma) || Gamma <= 0)
        {
            throw new ArgumentException($"γ must be finite and > 0, got {Gamma}.", nameof(Gamma));
        }
        if (Cutoffs.Count == 0 || Cutoffs.Any(k => k < 1))
        {
            throw new ArgumentException("Cut-offs must be ≥ 1 and at least one must be given.", nameof(Cutoffs));
        }
        if (Knn is not null && Knn.Any(k => k < 1))
        {
            throw new ArgumentException($"Each kNN k must be ≥ 1, got {string.Join(",", Knn)}.", nameof(Knn));
        }
    }

    private static void Positive(int value, string name)
    {
        if (value < 1)
        {
            throw new ArgumentException($"{name} must be ≥ 1, got {value}.", name);
        }
    }
}
