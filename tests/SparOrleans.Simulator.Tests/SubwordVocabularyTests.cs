using System.Text;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Text;
using SparOrleans.World.Composition;
using SparOrleans.World.Teaching;
using Xunit.Abstractions;

namespace SparOrleans.Simulator.Tests;

public class SubwordVocabularyTests(ITestOutputHelper output)
{
    private static readonly IRoleFormat Format = RoleFormats.Compact;

    // One vocabulary for the class: learning it from the default corpus takes seconds, not milliseconds.
    private static readonly Lazy<HfBpeTokenizer> Vocabulary = new(() =>
    {
        var prompts = BootstrapData.Prompts(SubwordVocabulary.CorpusPrompts, 31, WorldSplit.Train);
        return SubwordVocabulary.Train(prompts, BootstrapData.Answers(prompts, 32), SimulatorOptions.Default.SubwordMerges);
    });

    private static IReadOnlyList<WorldPrompt> HeldOut(int count) => Evaluation.HeldOutPrompts(count, 4242);

    [Fact]
    public void Train_TeacherTexts_HeldOutTextsShrinkBelowHalfTheirBytesAndDecodeLosslessly()
    {
        var tokenizer = Vocabulary.Value;
        var prompts = HeldOut(150);
        var texts = SubwordVocabulary.Corpus(prompts, BootstrapData.Answers(prompts, 9)).ToList();
        long bytes = 0, tokens = 0;
        foreach (var text in texts)
        {
            var ids = tokenizer.Encode(text);
            Assert.Equal(text, tokenizer.Decode(ids));
            bytes += Encoding.UTF8.GetByteCount(text);
            tokens += ids.Count;
        }
        var ratio = (double)tokens / bytes;
        output.WriteLine($"held-out teacher texts: {texts.Count}, {bytes} bytes -> {tokens} tokens, ratio {ratio:F3}, vocabulary {tokenizer.VocabSize}");
        Assert.True(ratio < 0.5, $"tokens per byte {ratio:F3}");
    }

    [Fact]
    public void DefaultCaps_TeacherOutputsOnHeldOutPrompts_FitInTokens()
    {
        var tokenizer = Vocabulary.Value;
        var options = SimulatorOptions.Default;
        var prompts = HeldOut(300);
        int answer = 0, judgment = 0, refinement = 0;
        foreach (var (p, i) in prompts.Select((p, i) => (p, i)))
        {
            var text = Teacher.Answer(p, i);
            answer = Math.Max(answer, tokenizer.Encode(text).Count);
            judgment = Math.Max(judgment, tokenizer.Encode(Format.RenderJudgment(Teacher.Judge(p, text))).Count);
            if (Teacher.Flawed(p, Math.Min(2, p.Level), i) is { } flawed)
            {
                judgment = Math.Max(judgment, tokenizer.Encode(Format.RenderJudgment(Teacher.Judge(p, flawed.Response))).Count);
                var refined = Teacher.Refine(p, flawed.Response, i);
                refinement = Math.Max(refinement, tokenizer.Encode(Format.RenderRefinement(refined.Reflection, refined.Response)).Count);
            }
        }
        output.WriteLine($"longest teacher output in tokens: answer {answer}, judgment {judgment}, refinement {refinement}");
        Assert.InRange(answer, 1, options.ActorMaxNewTokens);
        Assert.InRange(judgment, 1, options.JudgeMaxNewTokens);
        Assert.InRange(refinement, 1, options.RefineMaxNewTokens);
    }

    [Fact]
    public void Encode_JudgmentOverSubwords_WeighsTheTokensCarryingTheDecidingWords()
    {
        var template = new CompactChatTemplate(Vocabulary.Value);
        var prompt = BootstrapData.Prompts(1, 21, WorldSplit.Train, threads: 1)[0];
        var example = BootstrapData.Judgment(prompt, Teacher.Flawed(prompt, 1, 0)!.Response);
        var sequence = RefinerSequences.Encode(template, example, 4);
        var weighted = Enumerable.Range(0, sequence.Weights.Length).Where(i => sequence.Weights[i] == 4).ToList();
        var pieces = weighted.Select(i => template.Tokenizer.Decode([sequence.Tokens[i]]).Trim()).ToList();
        var judgment = example.Messages[^1].Content;
        var lines = judgment.Split('\n');
        // Each check line's ok/NO and the final verdict, each in its own token(s), nothing else.
        Assert.Equal(string.Concat(lines.Take(lines.Length - 1).Select(l => l[^2..])) + "no", string.Concat(pieces));
        Assert.Equal("no", pieces[^1]);
        Assert.All(Enumerable.Range(0, sequence.Weights.Length).Except(weighted), i => Assert.True(sequence.Weights[i] is 0 or 1));
    }
}
