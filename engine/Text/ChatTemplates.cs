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
    /// <summary>"compact" or "llama3"; saved with checkpoints.</summary>
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

/// <summary>Shared rendering: both families are "header, content, end-of-turn" per message.</summary>
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

/// <summary>
/// Llama-3's chat template: <c>&lt;|begin_of_text|&gt;</c>, then per message
/// <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;\n\ncontent&lt;|eot_id|&gt;</c> (content trimmed, as HF does).
/// </summary>
public sealed class Llama3ChatTemplate(ITokenizer tokenizer) : ChatTemplateBase(tokenizer)
{
    public override string Name => "llama3";

    public override IReadOnlyList<int> StopTokenIds => [EndOfTurnId, Tokenizer.SpecialId("<|end_of_text|>")];

    protected override int EndOfTurnId => Tokenizer.SpecialId("<|eot_id|>");

    protected override IEnumerable<int> Preamble() => [Tokenizer.SpecialId("<|begin_of_text|>")];

    protected override IEnumerable<int> Header(string role) =>
        [Tokenizer.SpecialId("<|start_header_id|>"), .. Tokenizer.Encode(role), Tokenizer.SpecialId("<|end_header_id|>"), .. Tokenizer.Encode("\n\n")];

    protected override string Content(string content) => content.Trim();
}

public static class ChatTemplates
{
    /// <summary>The template called <paramref name="name"/> over <paramref name="tokenizer"/>.</summary>
    public static IChatTemplate Create(string name, ITokenizer tokenizer) => name switch
    {
        "compact" => new CompactChatTemplate(tokenizer),
        "llama3" => new Llama3ChatTemplate(tokenizer),
        _ => throw new Core.Errors.UserInputException($"unknown chat template '{name}' (expected compact or llama3)"),
    };
}
