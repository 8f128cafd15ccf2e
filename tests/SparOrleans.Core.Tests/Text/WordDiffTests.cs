using System.Text;
using SparOrleans.Core.Text;

namespace SparOrleans.Core.Tests.Text;

public sealed class WordDiffTests
{
    [Theory]
    [InlineData("the cat sat", "the cat sat", "the cat sat")]
    [InlineData("the cat sat", "the dog sat", "the [-cat-]{+dog+} sat")]
    [InlineData("a b c d", "a x y d", "a [-b c-]{+x y+} d")]
    [InlineData("keep this", "keep this and more", "keep this{+ and more+}")]
    [InlineData("drop the end", "drop", "drop[- the end-]")]
    [InlineData("", "new text", "{+new text+}")]
    [InlineData("old text", "", "[-old text-]")]
    [InlineData("line one\nline two", "line one\n\nline two", "line one[-\n-]{+\n\n+}line two")]
    public void ToMarkers_KnownEdit_ShowsOnlyTheChangedWords(string before, string after, string expected) =>
        Assert.Equal(expected, WordDiff.ToMarkers(WordDiff.Compute(before, after)));

    [Fact]
    public void Compute_RandomTexts_SegmentsRebuildBothSides()
    {
        var random = new Random(11);
        string[] vocabulary = ["alpha", "beta", "gamma", "delta", " ", "  ", "\n", "x,", "y."];
        string Text()
        {
            var text = new StringBuilder();
            for (var i = random.Next(0, 30); i > 0; i--)
            {
                text.Append(vocabulary[random.Next(vocabulary.Length)]).Append(random.Next(3) == 0 ? "" : " ");
            }
            return text.ToString();
        }
        for (var trial = 0; trial < 300; trial++)
        {
            var before = Text();
            var after = random.Next(4) == 0 ? before : Text();
            var segments = WordDiff.Compute(before, after);
            Assert.Equal(before, string.Concat(segments.Where(s => s.Kind != DiffKind.Inserted).Select(s => s.Text)));
            Assert.Equal(after, string.Concat(segments.Where(s => s.Kind != DiffKind.Deleted).Select(s => s.Text)));
            Assert.All(segments, s => Assert.NotEmpty(s.Text));
            // Merged: never two segments of one kind in a row, and an insertion never comes before its deletion.
            for (var i = 1; i < segments.Count; i++)
            {
                Assert.NotEqual(segments[i - 1].Kind, segments[i].Kind);
                Assert.False(segments[i - 1].Kind == DiffKind.Inserted && segments[i].Kind == DiffKind.Deleted);
            }
            if (before == after)
            {
                Assert.All(segments, s => Assert.Equal(DiffKind.Equal, s.Kind));
            }
        }
    }

    [Fact]
    public void ChangedWords_OneWordReplaced_CountsDeletionAndInsertion() =>
        Assert.Equal(2, WordDiff.ChangedWords(WordDiff.Compute("write three short lines", "write four short lines")));

    [Fact]
    public void Compute_TextsBeyondTheTableLimit_StillRebuildBothSides()
    {
        // 5,000 distinct words per side in the middle: 10,000 tokens each, 10^8 pairs, above the limit.
        var before = "start " + string.Join(' ', Enumerable.Range(0, 5_000).Select(i => $"a{i}")) + " end";
        var after = "start " + string.Join(' ', Enumerable.Range(0, 5_000).Select(i => $"b{i}")) + " end";
        var segments = WordDiff.Compute(before, after);
        Assert.Equal(before, string.Concat(segments.Where(s => s.Kind != DiffKind.Inserted).Select(s => s.Text)));
        Assert.Equal(after, string.Concat(segments.Where(s => s.Kind != DiffKind.Deleted).Select(s => s.Text)));
        Assert.Equal("start ", segments[0].Text);
        Assert.Equal(" end", segments[^1].Text);
    }
}
