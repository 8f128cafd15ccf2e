using System.Globalization;
using System.Text;
using SparOrleans.Core.Errors;
using SparOrleans.Core.Formats;

namespace SparOrleans.Engine.Text;

/// <summary>
/// A rendered conversation: the tokens and, for each, whether it belongs to the assistant target (the loss mask).
/// <see cref="PromptLength"/> tokens come before the target.
/// </summary>
public sealed record EncodedChat(int[] Tokens, bool[] TargetMask, int PromptLength);

/// <summary>Renders chats into tokens for one model family.</summary>
public interface IChatTemplate
{
    /// <summary>One of <see cref="ChatTemplates.Names"/> ("compact", "llama3", "qwen3", ...); saved with checkpoints.</summary>
    string Name { get; }

    ITokenizer Tokenizer { get; }

    /// <summary>
    /// The prompt, ending with the assistant header so that generation continues as the assistant; with a
    /// <paramref name="target"/>, its tokens and the end-of-turn token follow and are marked as target.
    /// </summary>
    EncodedChat Encode(IReadOnlyList<ChatMessage> prompt, string? target = null);

    /// <summary>Ids that end an assistant turn; generation stops on them.</summary>
    IReadOnlyList<int> StopTokenIds { get; }
}

/// <summary>Rendering by ids, for the simulator's tokenizers (whose special tokens are not written as text): "header, content, end-of-turn" per message.</summary>
public abstract class ChatTemplateBase(ITokenizer tokenizer) : IChatTemplate
{
    public abstract string Name { get; }

    public ITokenizer Tokenizer { get; } = tokenizer;

    public abstract IReadOnlyList<int> StopTokenIds { get; }

    protected abstract int EndOfTurnId { get; }

    protected virtual IEnumerable<int> Preamble() => [];

    protected abstract IEnumerable<int> Header(string role);

    protected virtual string Content(string content) => content;

    public EncodedChat Encode(IReadOnlyList<ChatMessage> prompt, string? target = null)
    {
        var tokens = new List<int>(Preamble());
        foreach (var message in prompt)
        {
            tokens.AddRange(Header(message.Role));
            tokens.AddRange(Tokenizer.Encode(Content(message.Content)));
            tokens.Add(EndOfTurnId);
        }
        tokens.AddRange(Header(ChatMessage.Assistant));
        var promptLength = tokens.Count;
        if (target is not null)
        {
            tokens.AddRange(Tokenizer.Encode(Content(target)));
            tokens.Add(EndOfTurnId);
        }
        var mask = new bool[tokens.Count];
        Array.Fill(mask, true, promptLength, tokens.Count - promptLength);
        return new EncodedChat([.. tokens], mask, promptLength);
    }
}

/// <summary>
/// The simulator's compact template: one marker token per role, the content bytes, then end-of-sequence:
/// <c>&lt;|user|&gt;Write 3 letters a&lt;|eos|&gt;&lt;|assistant|&gt;aaa&lt;|eos|&gt;</c>. Two tokens per message.
/// </summary>
public sealed class CompactChatTemplate(ITokenizer tokenizer) : ChatTemplateBase(tokenizer)
{
    public CompactChatTemplate() : this(ByteTokenizer.Instance) { }

    public override string Name => "compact";

    public override IReadOnlyList<int> StopTokenIds => [Tokenizer.EosId];

    protected override int EndOfTurnId => Tokenizer.EosId;

    protected override IEnumerable<int> Header(string role) => [Tokenizer.SpecialId($"<|{role}|>")];
}


/// <summary>Options HF passes to a chat template as extra variables.</summary>
public sealed record ChatTemplateOptions
{
    public static readonly ChatTemplateOptions Default = new();

    /// <summary>
    /// Llama-3.1+'s <c>date_string</c> ("Today Date: ..."). Null: the template's own default as HF renders it, "26 Jul
    /// 2024" for Llama-3.1/3.3 and today's date for Llama-3.2 (whose template calls HF's <c>strftime_now</c>).
    /// </summary>
    public string? DateString { get; init; }

    /// <summary>Qwen3's <c>enable_thinking</c>. True (HF's default, the variable undefined): the generation prompt leaves
    /// the model to open its own <c>&lt;think&gt;</c>; false: it ends with an empty think block.</summary>
    public bool EnableThinking { get; init; } = true;
}

/// <summary>
/// A real model family's template, rendered to text exactly as its Jinja does and then tokenized whole (special tokens
/// written in the text become their ids), which is what HF's <c>apply_chat_template(tokenize=True)</c> does.
/// The prompt is the rendering with <c>add_generation_prompt=True</c>; with a target, the tokens are those of the
/// conversation with the target as its final assistant message, up to its end-of-turn token.
/// </summary>
public abstract class RenderedChatTemplate : IChatTemplate
{
    protected RenderedChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options)
    {
        Bpe = tokenizer as HfBpeTokenizer
            ?? throw new UserInputException($"chat template {GetType().Name} needs a tokenizer.json tokenizer, not '{tokenizer.Kind}'");
        Options = options ?? ChatTemplateOptions.Default;
    }

    public abstract string Name { get; }

    public ITokenizer Tokenizer => Bpe;

    protected HfBpeTokenizer Bpe { get; }

    public ChatTemplateOptions Options { get; }

    public abstract IReadOnlyList<int> StopTokenIds { get; }

    protected string BosToken => Bpe.TokenContent(Bpe.BosId);

    protected string EosToken => Bpe.TokenContent(Bpe.EosId);

    /// <summary>The text HF renders for <paramref name="messages"/>; with a generation prompt when <paramref name="target"/> is null.</summary>
    public abstract string Render(IReadOnlyList<ChatMessage> messages, string? target);

    public EncodedChat Encode(IReadOnlyList<ChatMessage> prompt, string? target = null)
    {
        var generationPrompt = Render(prompt, null);
        if (target is null)
        {
            var promptTokens = Tokenizer.Encode(generationPrompt);
            return new EncodedChat([.. promptTokens], new bool[promptTokens.Count], promptTokens.Count);
        }
        // Tokenized whole, as HF renders and tokenizes a training conversation. The prompt is what that rendering has
        // before the target: its common part with the rendering of an empty target, and no more than the generation
        // prompt where that is a prefix (so Qwen3's empty think block is target, as the model writes it when thinking).
        // A template may render the prompt differently once the target follows (Mistral's system message goes with the
        // last user turn only when that turn is last), so the generation prompt alone cannot mark it.
        var full = Render(prompt, target);
        var promptEnd = CommonPrefix(full, Render(prompt, ""));
        if (full.StartsWith(generationPrompt, StringComparison.Ordinal))
        {
            promptEnd = Math.Min(promptEnd, generationPrompt.Length);
        }
        var tokens = Tokenizer.Encode(full).ToArray();
        var head = Tokenizer.Encode(full[..promptEnd]);
        // Where a token straddles the prompt's end it counts as target.
        var promptLength = CommonPrefix(tokens, head);
        var mask = new bool[tokens.Length];
        Array.Fill(mask, true, promptLength, tokens.Length - promptLength);
        return new EncodedChat(tokens, mask, promptLength);
    }

    private static int CommonPrefix(string a, string b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
        {
            n++;
        }
        return n;
    }

    private static int CommonPrefix(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        var n = 0;
        while (n < a.Count && n < b.Count && a[n] == b[n])
        {
            n++;
        }
        return n;
    }

    protected int[] Ids(params string[] tokens) => [.. tokens.Select(Bpe.TryGetId).OfType<int>().Distinct()];

    protected static IEnumerable<ChatMessage> WithTarget(IReadOnlyList<ChatMessage> messages, string? target) =>
        target is null ? messages : messages.Append(new ChatMessage(ChatMessage.Assistant, target));

    /// <summary>
    /// The conversation with the target appended, its leading system message (the templates that place the system
    /// text themselves: Llama-3.1's block, Mistral's and Llama-2's first turn) taken out and returned apart.
    /// </summary>
    protected static (string? System, List<ChatMessage> Turns) SplitSystem(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var all = WithTarget(messages, target).ToList();
        if (all.Count == 0 || all[0].Role != ChatMessage.System)
        {
            return (null, all);
        }
        var system = all[0].Content;
        all.RemoveAt(0);
        return (system, all);
    }
}

/// <summary>
/// Llama-3 (3.0): <c>&lt;|begin_of_text|&gt;</c>, then per message
/// <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c> (content trimmed).
/// </summary>
public sealed class Llama3ChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options = null) : RenderedChatTemplate(tokenizer, options)
{
    public override string Name => "llama3";

    public override IReadOnlyList<int> StopTokenIds => Ids("<|eot_id|>", "<|end_of_text|>", EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var text = new StringBuilder(BosToken);
        foreach (var m in WithTarget(messages, target))
        {
            text.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(m.Content.Trim()).Append("<|eot_id|>");
        }
        return target is null ? text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n").ToString() : text.ToString();
    }
}

/// <summary>
/// Llama-3.1/3.2/3.3 (no tools): a system block always comes first, "Cutting Knowledge Date: December 2023\nToday Date:
/// {date}\n\n" then the (trimmed) system message; the messages follow as in Llama-3. 3.1's and 3.3's templates default
/// the date to "26 Jul 2024", 3.2's to today.
/// </summary>
public sealed class Llama31ChatTemplate : RenderedChatTemplate
{
    public const string DefaultDate = "26 Jul 2024";

    /// <param name="todayByDefault">Llama-3.2's template: without a date it renders today's (HF's <c>strftime_now("%d %b %Y")</c>);
    /// Llama-3.1's renders <see cref="DefaultDate"/>.</param>
    public Llama31ChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options = null, bool todayByDefault = false) : base(tokenizer, options)
    {
        Name = todayByDefault ? "llama3.2" : "llama3.1";
        Date = Options.DateString ?? (todayByDefault ? DateTime.Now.ToString("dd MMM yyyy", CultureInfo.InvariantCulture) : DefaultDate);
    }

    public override string Name { get; }

    /// <summary>The "Today Date" rendered.</summary>
    public string Date { get; }

    public override IReadOnlyList<int> StopTokenIds => Ids("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var (given, all) = SplitSystem(messages, target);
        var system = given?.Trim() ?? "";
        var text = new StringBuilder(BosToken).Append("<|start_header_id|>system<|end_header_id|>\n\n")
            .Append("Cutting Knowledge Date: December 2023\n").Append("Today Date: ").Append(Date).Append("\n\n")
            .Append(system).Append("<|eot_id|>");
        foreach (var m in all)
        {
            text.Append("<|start_header_id|>").Append(m.Role).Append("<|end_header_id|>\n\n").Append(m.Content.Trim()).Append("<|eot_id|>");
        }
        return target is null ? text.Append("<|start_header_id|>assistant<|end_header_id|>\n\n").ToString() : text.ToString();
    }
}

/// <summary>
/// ChatML (<c>&lt;|im_start|&gt;role\ncontent&lt;|im_end|&gt;\n</c>) with a default system message when none is given:
/// Qwen2.5's ("You are Qwen, created by Alibaba Cloud. ...") or SmolLM2's. With a target the rendering stops at its
/// <c>&lt;|im_end|&gt;</c> (HF's adds "\n" after it).
/// </summary>
public sealed class ChatMLTemplate : RenderedChatTemplate
{
    public const string QwenSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
    public const string SmolLMSystem = "You are a helpful AI assistant named SmolLM, trained by Hugging Face";

    private readonly string _defaultSystem;

    public ChatMLTemplate(ITokenizer tokenizer, string name, string defaultSystem, ChatTemplateOptions? options = null) : base(tokenizer, options)
    {
        Name = name;
        _defaultSystem = defaultSystem;
    }

    public override string Name { get; }

    public override IReadOnlyList<int> StopTokenIds => Ids("<|im_end|>", "<|endoftext|>", EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var text = new StringBuilder();
        if (messages.Count == 0 || messages[0].Role != ChatMessage.System)
        {
            text.Append("<|im_start|>system\n").Append(_defaultSystem).Append("<|im_end|>\n");
        }
        foreach (var m in messages)
        {
            text.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
        }
        return target is null
            ? text.Append("<|im_start|>assistant\n").ToString()
            : text.Append("<|im_start|>assistant\n").Append(target).Append("<|im_end|>").ToString();
    }
}

/// <summary>
/// Qwen3 (no tools): ChatML without a default system message. Assistant turns after the last user message carry a
/// think block (<c>&lt;think&gt;\nreasoning\n&lt;/think&gt;\n\n</c>, empty when the content has none); earlier ones lose
/// theirs. <see cref="ChatTemplateOptions.EnableThinking"/> false ends the generation prompt with an empty think block.
/// </summary>
public sealed class Qwen3ChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options = null) : RenderedChatTemplate(tokenizer, options)
{
    public override string Name => "qwen3";

    public override IReadOnlyList<int> StopTokenIds => Ids("<|im_end|>", "<|endoftext|>", EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var all = WithTarget(messages, target).ToList();
        var text = new StringBuilder();
        var lastQuery = all.FindLastIndex(m => m.Role == ChatMessage.User);
        if (lastQuery < 0)
        {
            lastQuery = all.Count - 1;
        }
        for (var i = 0; i < all.Count; i++)
        {
            var m = all[i];
            if (m.Role == ChatMessage.Assistant)
            {
                var (reasoning, content) = SplitThinking(m.Content);
                text.Append("<|im_start|>assistant\n");
                if (i > lastQuery && (i == all.Count - 1 || reasoning.Length > 0))
                {
                    text.Append("<think>\n").Append(reasoning.Trim('\n')).Append("\n</think>\n\n").Append(content.TrimStart('\n'));
                }
                else
                {
                    text.Append(content);
                }
                text.Append("<|im_end|>");
                if (target is null || i < all.Count - 1)
                {
                    text.Append('\n');
                }
            }
            else
            {
                text.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
            }
        }
        if (target is null)
        {
            text.Append("<|im_start|>assistant\n");
            if (!Options.EnableThinking)
            {
                text.Append("<think>\n\n</think>\n\n");
            }
        }
        return text.ToString();
    }

    private static (string Reasoning, string Content) SplitThinking(string content)
    {
        var end = content.LastIndexOf("</think>", StringComparison.Ordinal);
        if (end < 0)
        {
            return ("", content);
        }
        var before = content[..content.IndexOf("</think>", StringComparison.Ordinal)].TrimEnd('\n');
        var open = before.LastIndexOf("<think>", StringComparison.Ordinal);
        var reasoning = (open >= 0 ? before[(open + "<think>".Length)..] : before).TrimStart('\n');
        return (reasoning, content[(end + "</think>".Length)..].TrimStart('\n'));
    }
}

/// <summary>
/// Mistral's <c>[INST]</c> template (v0.3 style): <c>&lt;s&gt;[INST] user[/INST] assistant&lt;/s&gt;</c>; a system message is
/// put before the last user message ("system\n\nuser") when that message ends the conversation, and is dropped
/// otherwise (so a training conversation with a reply has none), as the template does.
/// </summary>
public sealed class MistralChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options = null) : RenderedChatTemplate(tokenizer, options)
{
    public override string Name => "mistral";

    public override IReadOnlyList<int> StopTokenIds => Ids(EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var (system, all) = SplitSystem(messages, target);
        ChatTemplates.RequireAlternation(all, Name);
        var lastUser = all.FindLastIndex(m => m.Role == ChatMessage.User);
        var text = new StringBuilder(BosToken);
        for (var i = 0; i < all.Count; i++)
        {
            var m = all[i];
            if (m.Role == ChatMessage.User)
            {
                // As the template's "loop.last and system_message is defined": with a reply after it, the system message is dropped.
                var withSystem = i == lastUser && i == all.Count - 1 && system is not null;
                text.Append("[INST] ").Append(withSystem ? system + "\n\n" + m.Content : m.Content).Append("[/INST]");
            }
            else
            {
                text.Append(' ').Append(m.Content.Trim()).Append(EosToken);
            }
        }
        return text.ToString();
    }
}

/// <summary>
/// Mistral v0.1/v0.2 and Mixtral's <c>[INST]</c> template: <c>&lt;s&gt;[INST] user [/INST]assistant&lt;/s&gt;</c>, contents as
/// given; it has no system role (refused, as the template raises).
/// </summary>
public sealed class MistralV1ChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options = null) : RenderedChatTemplate(tokenizer, options)
{
    public override string Name => "mistral.v1";

    public override IReadOnlyList<int> StopTokenIds => Ids(EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var all = WithTarget(messages, target).ToList();
        if (all.FirstOrDefault(m => m.Role is not (ChatMessage.User or ChatMessage.Assistant)) is { } other)
        {
            throw new UserInputException($"chat template {Name}: only user and assistant roles are supported, not '{other.Role}'");
        }
        ChatTemplates.RequireAlternation(all, Name);
        var text = new StringBuilder(BosToken);
        foreach (var m in all)
        {
            text.Append(m.Role == ChatMessage.User ? "[INST] " + m.Content + " [/INST]" : m.Content + EosToken);
        }
        return text.ToString();
    }
}

/// <summary>
/// Llama-2 chat: <c>&lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\nsystem\n&lt;&lt;/SYS&gt;&gt;\n\nuser [/INST] assistant &lt;/s&gt;</c>, each user turn opening with
/// BOS; contents stripped.
/// </summary>
public sealed class Llama2ChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options = null) : RenderedChatTemplate(tokenizer, options)
{
    public override string Name => "llama2";

    public override IReadOnlyList<int> StopTokenIds => Ids(EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var (system, all) = SplitSystem(messages, target);
        ChatTemplates.RequireAlternation(all, Name);
        var text = new StringBuilder();
        for (var i = 0; i < all.Count; i++)
        {
            var content = i == 0 && system is not null ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + all[i].Content : all[i].Content;
            text.Append(all[i].Role == ChatMessage.User
                ? BosToken + "[INST] " + content.Trim() + " [/INST]"
                : " " + content.Trim() + " " + EosToken);
        }
        return text.ToString();
    }
}

/// <summary>Zephyr (TinyLlama chat): <c>&lt;|role|&gt;\ncontent&lt;/s&gt;\n</c> per message, then <c>&lt;|assistant|&gt;\n</c>.</summary>
public sealed class ZephyrChatTemplate(ITokenizer tokenizer, ChatTemplateOptions? options = null) : RenderedChatTemplate(tokenizer, options)
{
    public override string Name => "zephyr";

    public override IReadOnlyList<int> StopTokenIds => Ids(EosToken);

    public override string Render(IReadOnlyList<ChatMessage> messages, string? target)
    {
        var text = new StringBuilder();
        foreach (var m in messages)
        {
            text.Append("<|").Append(m.Role).Append("|>\n").Append(m.Content).Append(EosToken).Append('\n');
        }
        return target is null
            ? text.Append("<|assistant|>\n").ToString()
            : text.Append("<|assistant|>\n").Append(target).Append(EosToken).ToString();
    }
}

public static class ChatTemplates
{
    /// <summary>The names <see cref="Create"/> knows.</summary>
    public static readonly IReadOnlyList<string> Names = ["compact", "llama3", "llama3.1", "llama3.2", "qwen2.5", "qwen3", "smollm2", "mistral", "mistral.v1", "llama2", "zephyr"];

    /// <summary>The template called <paramref name="name"/> over <paramref name="tokenizer"/>.</summary>
    public static IChatTemplate Create(string name, ITokenizer tokenizer, ChatTemplateOptions? options = null) => name switch
    {
        "compact" => new CompactChatTemplate(tokenizer),
        "llama3" => new Llama3ChatTemplate(tokenizer, options),
        "llama3.1" => new Llama31ChatTemplate(tokenizer, options),
        "llama3.2" => new Llama31ChatTemplate(tokenizer, options, todayByDefault: true),
        "qwen2.5" => new ChatMLTemplate(tokenizer, "qwen2.5", ChatMLTemplate.QwenSystem, options),
        "smollm2" => new ChatMLTemplate(tokenizer, "smollm2", ChatMLTemplate.SmolLMSystem, options),
        "qwen3" => new Qwen3ChatTemplate(tokenizer, options),
        "mistral" => new MistralChatTemplate(tokenizer, options),
        "mistral.v1" => new MistralV1ChatTemplate(tokenizer, options),
        "llama2" => new Llama2ChatTemplate(tokenizer, options),
        "zephyr" => new ZephyrChatTemplate(tokenizer, options),
        _ => throw new UserInputException($"unknown chat template '{name}' (expected one of {string.Join(", ", Names)})"),
    };

    /// <summary>
    /// Which family a tokenizer_config.json <c>chat_template</c> (Jinja) is, by text only its family's templates contain;
    /// a template matching none is refused with what was found, never guessed.
    /// </summary>
    public static string Recognize(string jinja, string source)
    {
        bool Has(string s) => jinja.Contains(s, StringComparison.Ordinal);
        if (Has("<|start_header_id|>") && Has("<|eot_id|>"))
        {
            if (Has("Cutting Knowledge Date"))
            {
                return Has("strftime_now") ? "llama3.2" : "llama3.1";
            }
            if (!Has("date_string") && !Has("tools"))
            {
                return "llama3";
            }
        }
        else if (Has("<|im_start|>") && Has("<|im_end|>"))
        {
            if (Has("<think>") && Has("enable_thinking"))
            {
                return "qwen3";
            }
            if (Has(ChatMLTemplate.QwenSystem))
            {
                return "qwen2.5";
            }
            if (Has(ChatMLTemplate.SmolLMSystem))
            {
                return "smollm2";
            }
        }
        else if (Has("[INST]") && Has("<<SYS>>") && Has("[/INST]"))
        {
            return "llama2";
        }
        else if (Has("[INST] ") && Has("[/INST]") && Has("\"\\n\\n\"") && !Has("[SYSTEM_PROMPT]"))
        {
            return "mistral";
        }
        else if (Has("'[INST] ' + message['content'] + ' [/INST]'") && Has("message['content'] + eos_token"))
        {
            return "mistral.v1";
        }
        else if (Has("<|user|>") && Has("<|assistant|>") && Has("eos_token"))
        {
            return "zephyr";
        }
        var markers = new[] { "<|start_header_id|>", "<|im_start|>", "[INST]", "<<SYS>>", "<|user|>", "<start_of_turn>", "<|turn>", "<think>" }.Where(Has).ToList();
        var opening = jinja.Length > 80 ? jinja[..80] + "..." : jinja;
        throw new UserInputException($"{source}: chat_template not recognised as any supported family ({string.Join(", ", Names.Skip(1))}); " +
            $"it contains {(markers.Count > 0 ? string.Join(", ", markers) : "none of their markers")} and begins '{opening.Replace("\n", "\\n", StringComparison.Ordinal)}'");
    }

    internal static void RequireAlternation(IReadOnlyList<ChatMessage> messages, string template)
    {
        for (var i = 0; i < messages.Count; i++)
        {
            var expected = i % 2 == 0 ? ChatMessage.User : ChatMessage.Assistant;
            if (messages[i].Role != expected)
            {
                throw new UserInputException($"chat template {template}: after an optional system message, roles must alternate user/assistant (message {i} is '{messages[i].Role}')");
            }
        }
    }
}
