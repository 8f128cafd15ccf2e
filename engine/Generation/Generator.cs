using SparOrleans.Engine.Model;

namespace SparOrleans.Engine.Generation;

/// <summary>Static batched generation: all requests start together; finished rows leave the batch at once.</summary>
public static class BatchGenerator
{
    /// <summary>
    /// Generates every request with <paramref name="model"/> on the calling thread; results in request order.
    /// <paramref name="prefixSharing"/>: identical prompts are prefilled once (see <see cref="GenerationServiceOptions.PrefixSharing"/>).
    /// </summary>
    public static IReadOnlyList<GenerationResult> Generate(LanguageModel model, IReadOnlyList<GenerationRequest> requests,
        int maxBatchSize = 64, CancellationToken cancellationToken = default, bool prefixSharing = true)
    {
        var rows = requests.Select((r, i) => BatchDecoder.Prepare(model, r, i)).ToList();
        var results = new GenerationResult[requests.Count];
        using var decoder = new BatchDecoder(model, prefixSharing);
        var next = 0;
        while (next < rows.Count || decoder.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var admit = BatchDecoder.ToAdmit(decoder.Count, rows.Count - next, maxBatchSize);
            var finished = new List<BatchDecoder.Row>();
            if (admit > 0)
            {
                var joining = rows.GetRange(next, admit);
                next += joining.Count;
                finished.AddRange(decoder.Admit(joining));
            }
            else
            {
                finished.AddRange(decoder.Step());
            }
            foreach (var row in finished)
            {
                results[(int)row.Tag!] = row.Result!;
                row.Random.Dispose();
            }
        }
        return results;
    }
}
