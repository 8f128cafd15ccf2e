using System.Text.Json.Nodes;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;
using SparOrleans.Engine.Text;

namespace SparOrleans.Engine.Tests;

/// <summary>What TokenizerFiles and the tokenizer.json reader refuse, and how they read tokenizer_config.json.</summary>
public class TokenizerFilesTests
{
    // A byte-level BPE file in HF's shape: 256 byte symbols, two merges, Llama-3-like special tokens.
    internal static JsonObject ByteLevelJson()
    {
        var alphabet = Enumerable.Range(0, 256).Select(b => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF ? (char)b : '\0').ToArray();
        var extra = 0;
        for (var b = 0; b < 256; b++)
        {
            if (alphabet[b] == '\0')
            {
                alphabet[b] = (char)(256 + extra++);
            }
        }
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
        {
            vocab[alphabet[b].ToString()] = b;
        }
        vocab["he"] = 256;
        vocab["ll"] = 257;
        var added = new JsonArray();
        var id = 258;
        foreach (var special in new[] { "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|im_start|>", "<|im_end|>", "<s>", "</s>" })
        {
            added.Add(new JsonObject { ["id"] = id++, ["content"] = special, ["special"] = true });
        }
        added.Add(new JsonObject { ["id"] = id, ["content"] = "word", ["special"] = false, ["single_word"] = true });
        return new JsonObject
        {
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject { ["type"] = "BPE", ["vocab"] = vocab, ["merges"] = new JsonArray("h e", "l l") },
        };
    }

    private static string Config(JsonNode? chatTemplate, string? eos = null) => new JsonObject
    {
        ["bos_token"] = "<|begin_of_text|>",
        ["eos_token"] = eos is null ? null : new JsonObject { ["content"] = eos, ["special"] = true },
        ["chat_template"] = chatTemplate,
    }.ToJsonString();

    [Theory]
    [InlineData("model", "type", "WordPiece", "tokenizer model type 'WordPiece' is not supported")]
    [InlineData("normalizer", "type", "Precompiled", "normalizer type 'Precompiled' is not supported")]
    [InlineData("pre_tokenizer", "type", "BertPreTokenizer", "pre-tokenizer type 'BertPreTokenizer' is not supported")]
    [InlineData("decoder", "type", "WordPiece", "decoder type 'WordPiece' is not supported")]
    public void Parse_UnsupportedComponent_RefusedNamingIt(string component, string key, string value, string message)
    {
        var json = ByteLevelJson();
        json[component] ??= new JsonObject();
        json[component]![key] = value;
        var e = Assert.Throws<UserInputException>(() => HfBpeTokenizer.Parse(json.ToJsonString(), "tokenizer.json"));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Parse_BpeWithSubwordPrefix_Refused()
    {
        var json = ByteLevelJson();
        json["model"]!["continuing_subword_prefix"] = "##";
        Assert.Contains("continuing_subword_prefix '##'", Assert.Throws<UserInputException>(() => HfBpeTokenizer.Parse(json.ToJsonString(), "t")).Message);
    }

    [Fact]
    public void Parse_UnknownChatTemplate_RefusedSayingWhatWasFound()
    {
        var e = Assert.Throws<UserInputException>(() => TokenizerFiles.Parse(ByteLevelJson().ToJsonString(),
            Config("{% for m in messages %}<start_of_turn>{{ m.role }}\n{{ m.content }}<end_of_turn>\n{% endfor %}"), "gemma"));
        Assert.Contains("chat_template not recognised", e.Message);
        Assert.Contains("<start_of_turn>", e.Message);
    }

    [Fact]
    public void Parse_NoChatTemplate_Refused()
    {
        var e = Assert.Throws<UserInputException>(() => TokenizerFiles.Parse(ByteLevelJson().ToJsonString(), Config(null), "base-model"));
        Assert.Contains("no chat_template", e.Message);
    }

    [Fact]
    public void Parse_NamedTemplatesList_TakesDefaultOrRefusesWithoutOne()
    {
        var llama3 = "{{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>\n\n{{ message['content'] | trim }}<|eot_id|>{% endfor %}";
        var list = new JsonArray(new JsonObject { ["name"] = "tool_use", ["template"] = "x" }, new JsonObject { ["name"] = "default", ["template"] = llama3 });
        var template = TokenizerFiles.Parse(ByteLevelJson().ToJsonString(), Config(list, eos: "<|eot_id|>"), "m");
        Assert.Equal("llama3", template.Name);
        var tokenizer = (HfBpeTokenizer)template.Tokenizer;
        Assert.Equal(tokenizer.SpecialId("<|eot_id|>"), tokenizer.EosId);
        Assert.Equal(tokenizer.SpecialId("<|begin_of_text|>"), tokenizer.BosId);
        var noDefault = new JsonArray(new JsonObject { ["name"] = "tool_use", ["template"] = llama3 });
        Assert.Contains("found tool_use", Assert.Throws<UserInputException>(() => TokenizerFiles.Parse(ByteLevelJson().ToJsonString(), Config(noDefault), "m")).Message);
    }

    [Fact]
    public void Parse_EosTokenMissingFromVocabulary_Refused()
    {
        Assert.Contains("eos_token '<|nope|>'", Assert.Throws<UserInputException>(() =>
            TokenizerFiles.Parse(ByteLevelJson().ToJsonString(), Config("<|im_start|><|im_end|>named SmolLM", eos: "<|nope|>"), "m")).Message);
    }

    [Fact]
    public void Parse_SparKeys_WinOverChatTemplateAsBefore()
    {
        var config = new JsonObject { ["spar_tokenizer"] = "hf-bpe", ["spar_chat_template"] = "compact", ["chat_template"] = "anything" }.ToJsonString();
        Assert.Equal("compact", TokenizerFiles.Parse(ByteLevelJson().ToJsonString(), config, "ours").Name);
        Assert.Equal("compact", TokenizerFiles.Parse(null, null, "bytes").Name);
        Assert.Same(ByteTokenizer.Instance, TokenizerFiles.Parse(null, null, "bytes").Tokenizer);
    }

    [Fact]
    public void ConfigKeys_QwenLikeConfig_ReloadWithTheSameSpecialIds()
    {
        var tokenizerJson = ByteLevelJson().ToJsonString();
        var config = new JsonObject { ["eos_token"] = "<|im_end|>", ["pad_token"] = "</s>", ["clean_up_tokenization_spaces"] = true,
            ["chat_template"] = "<|im_start|><|im_end|>" + ChatMLTemplate.QwenSystem }.ToJsonString();
        var template = TokenizerFiles.Parse(tokenizerJson, config, "qwen-like");
        var reloaded = TokenizerFiles.Parse(tokenizerJson, TokenizerFiles.ConfigKeys(template).ToJsonString(), "saved");
        Assert.Equal("qwen2.5", reloaded.Name);
        Assert.Equal((template.Tokenizer.BosId, template.Tokenizer.EosId, template.Tokenizer.PadId), (reloaded.Tokenizer.BosId, reloaded.Tokenizer.EosId, reloaded.Tokenizer.PadId));
        Assert.Equal(template.Tokenizer.SpecialId("<|im_end|>"), reloaded.Tokenizer.EosId);
        Assert.True(((HfBpeTokenizer)reloaded.Tokenizer).CleanUpTokenizationSpaces);
        Assert.Equal(template.Encode([new ChatMessage(ChatMessage.User, "hello")], "hi").Tokens, reloaded.Encode([new ChatMessage(ChatMessage.User, "hello")], "hi").Tokens);
    }

    [Fact]
    public void Encode_SingleWordAddedToken_MatchedOnlyAsAWholeWord()
    {
        // HF (tokenizers' AddedVocabulary) skips a single_word match touching a word character; @huggingface/tokenizers
        // 0.2.0 (transformers.js 4.x) ignores the flag, so this is checked here rather than against it.
        var tokenizer = HfBpeTokenizer.Parse(ByteLevelJson().ToJsonString(), "t");
        var word = tokenizer.SpecialId("word");
        Assert.Contains(word, tokenizer.Encode("a word b"));
        Assert.Contains(word, tokenizer.Encode("word"));
        Assert.Contains(word, tokenizer.Encode("(word)"));
        Assert.DoesNotContain(word, tokenizer.Encode("awordb"));
        Assert.DoesNotContain(word, tokenizer.Encode("swords"));
        Assert.DoesNotContain(word, tokenizer.Encode("word_x"));
        Assert.Equal("a swords b", tokenizer.Decode(tokenizer.Encode("a swords b")));
    }

    [Fact]
    public void Llama32_NoDate_RendersTodayLikeHfStrftimeNow_Llama31TheFixedDate()
    {
        var tokenizer = HfBpeTokenizer.Parse(ByteLevelJson().ToJsonString(), "t");
        var today = DateTime.Now.ToString("dd MMM yyyy", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"Today Date: {today}\n\n", ((RenderedChatTemplate)ChatTemplates.Create("llama3.2", tokenizer)).Render([new ChatMessage(ChatMessage.User, "hi")], null));
        Assert.Contains("Today Date: 26 Jul 2024\n\n", ((RenderedChatTemplate)ChatTemplates.Create("llama3.1", tokenizer)).Render([new ChatMessage(ChatMessage.User, "hi")], null));
        var dated = (RenderedChatTemplate)ChatTemplates.Create("llama3.2", tokenizer, new ChatTemplateOptions { DateString = "01 Feb 2025" });
        Assert.Contains("Today Date: 01 Feb 2025\n\n", dated.Render([new ChatMessage(ChatMessage.User, "hi")], null));
    }

    [Fact]
    public void RenderedTemplate_ByteTokenizer_Refused()
    {
        Assert.Contains("needs a tokenizer.json tokenizer", Assert.Throws<UserInputException>(() => ChatTemplates.Create("qwen3", ByteTokenizer.Instance)).Message);
    }

    [Fact]
    public void Mistral_RolesNotAlternating_Refused()
    {
        var template = ChatTemplates.Create("mistral", HfBpeTokenizer.Parse(ByteLevelJson().ToJsonString(), "t"));
        Assert.Contains("alternate", Assert.Throws<UserInputException>(() =>
            template.Encode([new ChatMessage(ChatMessage.User, "a"), new ChatMessage(ChatMessage.User, "b")])).Message);
    }
}
