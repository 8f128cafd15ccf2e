using SparOrleans.Core;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Text;
using static TorchSharp.torch;

namespace SparOrleans.Engine.Training;

/// <summary>
/// Tokens to train on and, per token, the weight of predicting it (0 = no loss). <see cref="Target"/> marks the
/// assistant's tokens (DPO sums log-probabilities over those).
/// </summary>
public sealed record TrainingSequence(int[] Tokens, float[] Weights, bool[] Target)
{
    /// <summary>
    /// Renders a chat with its target: target tokens weigh <paramref name="targetWeight"/>, prompt tokens
    /// <paramref name="inputWeight"/> (the auxiliary LM loss; 0 by default).
    /// </summary>
    public static TrainingSequence FromChat(IChatTemplate template, IReadOnlyList<ChatMessage> prompt, string target,
        float inputWeight = 0, float targetWeight = 1)
    {
        var encoded = template.Encode(prompt, target);
        var weights = new float[encoded.Tokens.Length];
        for (var i = 1; i < weights.Length; i++)
        {
            weights[i] = encoded.TargetMask[i] ? targetWeight : inputWeight;
        }
        return new TrainingSequence(encoded.Tokens, weights, encoded.TargetMask);
    }

    /// <summary>A single user turn and its answer.</summary>
    public static TrainingSequence FromUser(IChatTemplate template, string user, string target, float inputWeight = 0) =>
        FromChat(template, [new ChatMessage(ChatMessage.User, user)], target, inputWeight);
}

/// <summary>A DPO example: one prompt, a preferred and a dispreferred answer.</summary>
public sealed record DpoPair(IReadOnlyList<ChatMessage> Prompt, string Chosen, string Rejected);

/// <summary>Length-bucketed batching: shuffle, sort windows of several batches by length, shuffle the batches.</summary>
internal static class Batching
{
    /// <summary>
    /// Indices per optimizer batch for one epoch; the same (seed, epoch) gives the same order in every process, so a
    /// run resumed elsewhere continues with the batches it would have seen (<see cref="HashCode"/> is salted per process).
    /// </summary>
    public static List<int[]> EpochBatches(IReadOnlyList<int> lengths, int batchSize, int bucketBatches, long seed, int epoch)
    {
        var rng = new Random(StableHash.Combine(0, seed, epoch));
        var order = Enumerable.Range(0, lengths.Count).ToArray();
        rng.Shuffle(order);
        var window = batchSize * bucketBatches;
        var batches = new List<int[]>();
        for (var start = 0; start < order.Length; start += window)
        {
            var chunk = order.Skip(start).Take(window).OrderBy(i => lengths[i]).ToArray();
            for (var b = 0; b < chunk.Length; b += batchSize)
            {
                batches.Add(chunk.Skip(b).Take(batchSize).ToArray());
            }
        }
        var shuffled = batches.ToArray();
        rng.Shuffle(shuffled);
        return [.. shuffled];
    }

    /// <summary>
    /// Right-padded inputs [B,T-1], labels [B,T-1], label weights [B,T-1] and target flags [B,T-1]; T is rounded
    /// up to a multiple of 8 so that few distinct shapes reach the allocator.
    /// </summary>
    public static (Tensor Inputs, Tensor Labels, Tensor Weights, Tensor Target) Collate(IReadOnlyList<TrainingSequence> rows, int padId, int maxLength, Device device)
    {
        var longest = Math.Min(maxLength, rows.Max(r => r.Tokens.Length));
        var width = Math.Min(Math.Max(maxLength, 2), (longest + 7) / 8 * 8);
        var n = rows.Count;
        var tokens = new long[n * width];
        var weights = new float[n * width];
        var target = new bool[n * width];
        Array.Fill(tokens, padId);
        for (var r = 0; r < n; r++)
        {
            var row = rows[r];
            var len = Math.Min(width, row.Tokens.Length);
            for (var i = 0; i < len; i++)
            {
                tokens[r * width + i] = row.Tokens[i];
                weights[r * width + i] = row.Weights[i];
                target[r * width + i] = row.Target[i];
            }
        }
        var all = tensor(tokens, [n, width], device: device);
        var w = tensor(weights, [n, width], device: device);
        var t = tensor(target, [n, width], device: device);
        return (all.narrow(1, 0, width - 1), all.narrow(1, 1, width - 1), w.narrow(1, 1, width - 1), t.narrow(1, 1, width - 1));
    }
}
