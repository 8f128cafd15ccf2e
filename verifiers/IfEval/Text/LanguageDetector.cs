using System.Text;
using System.Text.RegularExpressions;

namespace SparOrleans.Verifiers.IfEval.Text;

/// <summary>
/// Compact stand-in for <c>langdetect.detect</c>: Unicode-script rules pick the script, then stop-word and
/// characteristic-letter scores pick the language among those sharing it. Returns ISO 639-1 codes as langdetect does
/// (<c>zh-cn</c> for Chinese), or null where langdetect raises "No features in text" (no letters at all), which
/// IFEval counts as a pass. Deterministic, unlike langdetect; it disagrees with langdetect mostly on short or
/// mixed-language texts (see verifiers/README.md). Thread-safe.
/// </summary>
public static partial class LanguageDetector
{
    private enum Script { Other, Latin, Cyrillic, Arabic, Devanagari, Bengali, Gurmukhi, Gujarati, Tamil, Telugu, Kannada, Malayalam, Thai, Hangul, Kana, Han, Hebrew, Greek }

    [GeneratedRegex(@"https?://[-_.?&~;+=/#0-9A-Za-z]{1,2076}|[-_.0-9A-Za-z]{1,64}@[-_0-9A-Za-z]{1,255}[-_.0-9A-Za-z]{1,255}")]
    private static partial Regex UrlOrMailRegex();

    [GeneratedRegex(@"[\p{L}\p{M}]+")]
    private static partial Regex WordRegex();

    private static readonly Regex UrlOrMail = UrlOrMailRegex();
    private static readonly Regex Word = WordRegex();

    private sealed record Profile(string Code, HashSet<string> StopWords, string Letters);

    private static Profile P(string code, string stopWords, string letters = "") =>
        new(code, new HashSet<string>(stopWords.Split(' ', StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal), letters);

    // Order breaks ties: the first profile wins an equal score.
    private static readonly Profile[] Latin =
    [
        P("en", "the and of to is in that it for you with on are this be as was have not but they at by from or an will can your we my me he she his her what which there their has would all if about so do our"),
        P("de", "der die das und ist nicht ein eine zu den von mit sich des auf für im dem auch es an als wir ich sie er du werden wird oder aber noch nach bei einen einem sind wie dass war hat kann zum zur über aus uns", "äöüß"),
        P("fr", "le la les de des et est un une du en que qui dans pour pas sur au avec ce il elle nous vous je sont mais ou par plus se son sa ses aux cette être été très ne leur", "éèêàçùûëïîôœ"),
        P("es", "el la los las de del y que en un una es por con para no se su al lo como más pero sus le ya o este esta sí porque muy también son está hay ser yo tu", "ñáíóú¿¡"),
        P("it", "il lo la i gli le di e che è un una per in con non del della dei delle al alla sono si come anche più ma questo questa nel nella ha da io noi voi loro mi", "àèéìòù"),
        P("pt", "o a os as de do da dos das e que é um uma em no na nos nas para com não por se mais como mas ao ele ela seu sua são você muito também isso este esta foi pelo pela", "ãõçáâêôíú"),
        P("nl", "de het een en van is dat op te in zijn met voor niet die er aan ook als maar bij om ik je wij hij zij wordt naar dit heeft kan worden"),
        P("fi", "ja on ei se että hän oli ovat ole mutta kun tai niin myös joka mitä tämä sen kuin olla minä sinä me te he jos vain kanssa mukaan voi sekä siitä tässä nyt", "äö"),
        P("sw", "na ya wa kwa ni za katika la kama cha hii yake kuwa pia lakini hiyo wake vya ili sana huu mimi wewe sisi wao hata au kwamba baada kutoka zaidi yetu wako kila hapa hakuna ndani vizuri"),
        P("vi", "và của là có không được các một những trong cho với để người này đã khi đến từ như cũng nhưng thì rất về ra làm bạn tôi chúng đó sẽ năm nhiều", "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđơưăâêô"),
        P("id", "yang dan di ke dari ini itu untuk dengan tidak ada dalam akan pada juga saya kami anda atau oleh karena bisa sudah mereka"),
        P("pl", "i w nie na się z że do to jest jak o co ale po od za są tak jego jej przez dla czy być który która może", "ąęłńśźżóć"),
        P("tr", "ve bir bu da de için ile çok ne daha gibi olarak ama var değil ben sen biz o en mi ki her kadar sonra olan", "ğşıçöü"),
        P("sv", "och i att det som en på är av för med till den har de inte om ett var jag men så vi du han hon från kan vid sig eller", "åäö"),
        P("da", "og i at det er en til på som de med af for ikke der var jeg har men et om vi du han hun sig kan fra eller skal", "åæø"),
        P("no", "og i å det er en til på som de med av for ikke der var jeg har men et om vi du han hun seg kan fra eller skal", "åæø"),
        P("ro", "și în de la cu nu pe că o un este sunt din pentru mai ce care se sau dar ca al ale lui acest această", "șțăîâşţ"),
        P("cs", "a je se na v že to s z do o k ale jako pro jsou tak by byl jsem jeho její také nebo které který", "ěščřžýůú"),
    ];

    private static readonly Profile[] Devanagari =
    [
        P("hi", "है हैं के की का में और को से पर यह था थे थी भी लिए एक नहीं हो कि तो जो ने करने किया गया रहा आप हम मैं"),
        P("mr", "आहे आणि या व हे ही ते की एक नाही आहेत होते म्हणून केले करण्यासाठी मध्ये त्या त्यांच्या साठी तुम्ही आम्ही मी पण असे झाले", "ळ"),
        P("ne", "छ हो र को का मा ले लाई पनि गर्न गरेको भएको थियो छन् हुन्छ यो त्यो तर एक हामी तपाईं म भने गर्छ छैन"),
    ];

    private static readonly Profile[] Arabic =
    [
        P("ar", "في من على إلى أن عن مع هذا هذه التي الذي كان ما لا هو هي و أو قد كل بين ذلك", "ةيكأإى"),
        P("fa", "و در به از که این را با است برای آن یک تا می شود هم بر یا نیز ها خود اند شده", "پچژگیک"),
        P("ur", "کے کی ہے میں اور کا کو سے نے یہ ہیں پر کہ ایک بھی تھا لیے ہو جو وہ", "ٹڈڑںےہھ"),
    ];

    private static readonly Profile[] Cyrillic =
    [
        P("ru", "и в не на что с по это как он к но из у за то же от для так его бы мы вы они есть был чтобы или", "ыэё"),
        P("bg", "и в на да се не за от че с е са по това как но ще към който която които тя той те или беше съм си", "ъ"),
        P("uk", "і в на не що з до як це та за від у але для ми він вона вони є був також її його", "іїєґ"),
        P("mk", "и во на да се не за од дека со е се по тоа како но ќе кон кој која кои таа тој тие или", "јќѓѕљњ"),
    ];

    /// <summary>The language of <paramref name="text"/> (ISO 639-1, lower case), or null when it has no letters.</summary>
    public static string? Detect(string text)
    {
        // As langdetect, URLs and e-mail addresses carry no language; most texts have neither.
        var cleaned = text.Contains("://", StringComparison.Ordinal) || text.Contains('@') ? UrlOrMail.Replace(text, " ") : text;
        Span<int> counts = stackalloc int[Enum.GetValues<Script>().Length];
        foreach (var r in cleaned.EnumerateRunes())
        {
            if (Rune.IsLetter(r))
            {
                counts[(int)ScriptOf(r.Value)]++;
            }
        }
        int nonLatin = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            nonLatin += i == (int)Script.Latin ? 0 : counts[i];
        }
        // As langdetect: Latin letters are noise in a text that is mostly in another script.
        if (counts[(int)Script.Latin] * 2 < nonLatin)
        {
            counts[(int)Script.Latin] = 0;
        }
        var best = Script.Other;
        int bestCount = 0;
        for (int i = 1; i < counts.Length; i++)
        {
            if (counts[i] > bestCount)
            {
                best = (Script)i;
                bestCount = counts[i];
            }
        }
        if (bestCount == 0)
        {
            return null;
        }
        // Japanese text mixes kana and Han; kana alone identifies it.
        if (best == Script.Han && counts[(int)Script.Kana] > 0)
        {
            best = Script.Kana;
        }
        return best switch
        {
            Script.Latin => Score(cleaned, Latin),
            Script.Cyrillic => Score(cleaned, Cyrillic),
            Script.Arabic => Score(cleaned, Arabic),
            Script.Devanagari => Score(cleaned, Devanagari),
            Script.Bengali => "bn",
            Script.Gurmukhi => "pa",
            Script.Gujarati => "gu",
            Script.Tamil => "ta",
            Script.Telugu => "te",
            Script.Kannada => "kn",
            Script.Malayalam => "ml",
            Script.Thai => "th",
            Script.Hangul => "ko",
            Script.Kana => "ja",
            Script.Han => "zh-cn",
            Script.Hebrew => "he",
            Script.Greek => "el",
            _ => null,
        };
    }

    private static string Score(string text, Profile[] profiles)
    {
        Span<double> scores = stackalloc double[profiles.Length];
        var lower = text.ToLowerInvariant();
        // Latin one-letter words ("a", "o", "e", "i") are stop words in too many languages to tell them apart.
        int minLength = ReferenceEquals(profiles, Latin) ? 2 : 1;
        for (var m = Word.Match(lower); m.Success; m = m.NextMatch())
        {
            if (m.Length < minLength)
            {
                continue;
            }
            for (int i = 0; i < profiles.Length; i++)
            {
                if (profiles[i].StopWords.Contains(m.Value))
                {
                    scores[i] += 1;
                }
            }
        }
        foreach (var c in lower)
        {
            if (c < 0x80)
            {
                continue;
            }
            for (int i = 0; i < profiles.Length; i++)
            {
                if (profiles[i].Letters.Contains(c))
                {
                    scores[i] += 0.5;
                }
            }
        }
        int best = 0;
        for (int i = 1; i < profiles.Length; i++)
        {
            if (scores[i] > scores[best])
            {
                best = i;
            }
        }
        return profiles[best].Code;
    }

    private static Script ScriptOf(int cp) => cp switch
    {
        < 0x0250 => cp is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= 0xC0 ? Script.Latin : Script.Other,
        >= 0x1E00 and <= 0x1EFF => Script.Latin,
        >= 0x0370 and <= 0x03FF => Script.Greek,
        >= 0x0400 and <= 0x052F => Script.Cyrillic,
        >= 0x0590 and <= 0x05FF => Script.Hebrew,
        >= 0x0600 and <= 0x06FF or >= 0x0750 and <= 0x077F or >= 0xFB50 and <= 0xFDFF or >= 0xFE70 and <= 0xFEFF => Script.Arabic,
        >= 0x0900 and <= 0x097F => Script.Devanagari,
        >= 0x0980 and <= 0x09FF => Script.Bengali,
        >= 0x0A00 and <= 0x0A7F => Script.Gurmukhi,
        >= 0x0A80 and <= 0x0AFF => Script.Gujarati,
        >= 0x0B80 and <= 0x0BFF => Script.Tamil,
        >= 0x0C00 and <= 0x0C7F => Script.Telugu,
        >= 0x0C80 and <= 0x0CFF => Script.Kannada,
        >= 0x0D00 and <= 0x0D7F => Script.Malayalam,
        >= 0x0E00 and <= 0x0E7F => Script.Thai,
        >= 0x1100 and <= 0x11FF or >= 0x3130 and <= 0x318F or >= 0xAC00 and <= 0xD7AF => Script.Hangul,
        >= 0x3040 and <= 0x30FF or >= 0x31F0 and <= 0x31FF or >= 0xFF66 and <= 0xFF9F => Script.Kana,
        >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2FFFF => Script.Han,
        _ => Script.Other,
    };
}
