using System.Security.Cryptography;
using System.Text;
using SparOrleans.Engine.Text;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;

namespace SparOrleans.Simulator.Tests;

/// <summary>
/// Cached bootstraps and checkpoints hold token ids, so the simulator's vocabulary and its encodings must not move when
/// the tokenizer's implementation does. The digest was taken with the Microsoft.ML.Tokenizers implementation this
/// one replaced (4,188 texts: held-out and training teacher texts). It was taken again, with that implementation, when
/// IFEval's language checks became langdetect's (the world's case constraints use them, so a few teacher texts moved):
/// both implementations give this digest on today's world.
/// </summary>
public class SubwordIdsStabilityTests
{
    private const string Digest = "24C808064B70908841F45095B78C25051EA82454877BDD393590F3CD044C98C0";

    [Fact]
    public void Train_DefaultCorpus_VocabularyAndIdsEqualTheRecordedOnes()
    {
        var prompts = BootstrapData.Prompts(SubwordVocabulary.CorpusPrompts, 31, WorldSplit.Train);
        var tok = SubwordVocabulary.Train(prompts, BootstrapData.Answers(prompts, 32), SimulatorOptions.Default.SubwordMerges);
        var held = Evaluation.HeldOutPrompts(300, 4242);
        var texts = SubwordVocabulary.Corpus(held, BootstrapData.Answers(held, 9)).ToList();
        var train = prompts.Take(300).ToList();
        texts.AddRange(SubwordVocabulary.Corpus(train, BootstrapData.Answers(train, 3)));
        var lines = new StringBuilder();
        lines.Append(Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(tok.Json)))).Append('\n');
        lines.Append($"{tok.VocabSize} {tok.PadId} {tok.BosId} {tok.EosId}\n");
        foreach (var t in texts)
        {
            var ids = tok.Encode(t);
            lines.Append(string.Join(",", ids)).Append('|').Append(tok.Decode(ids) == t).Append('\n');
        }
        Assert.Equal(Digest, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(lines.ToString()))));
    }
}
