using System.Text.Json.Nodes;

namespace SparOrleans.Tests.Shared;

/// <summary>
/// A byte-level BPE tokenizer.json in HF's layout, small enough to write in a test: the 256 byte symbols, a few
/// merges and Llama-3's special tokens, with the ByteLevel pre-tokenizer and decoder a byte-level file names
/// (without them HF tokenizes raw characters).
/// </summary>
public static class TinyTokenizer
{
    public static string Json(params string[] merges)
    {
        var bytes = new List<int>();
        for (var b = '!'; b <= '~'; b++) bytes.Add(b);
        for (var b = 0xA1; b <= 0xAC; b++) bytes.Add(b);
        for (var b = 0xAE; b <= 0xFF; b++) bytes.Add(b);
        var chars = bytes.Select(b => (char)b).ToList();
        var extra = 0;
        for (var b = 0; b < 256; b++)
        {
            if (!bytes.Contains(b))
            {
                chars.Add((char)(256 + extra++));
            }
        }
        var vocab = new JsonObject();
        for (var i = 0; i < chars.Count; i++) vocab[chars[i].ToString()] = i;
        var next = chars.Count;
        foreach (var m in merges) vocab[m.Replace(" ", "")] = next++;
        var added = new JsonArray();
        foreach (var special in new[] { "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>" })
        {
            added.Add(new JsonObject { ["id"] = next++, ["content"] = special, ["special"] = true });
        }
        return new JsonObject
        {
            ["added_tokens"] = added,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray(merges.Select(m => (JsonNode)m).ToArray()) },
        }.ToJsonString();
    }
}
