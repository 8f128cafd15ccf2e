using SparOrleans.Verifiers.IfEval.Text;

namespace SparOrleans.Verifiers.Tests;

/// <summary>One short sentence per language that IFEval's <c>language</c> kwargs use, plus English; langdetect 1.0.9
/// (seed 0) gives the same answers.</summary>
public class LanguageDetectorTests
{
    [Theory]
    [InlineData("en", "The weather is nice today and we are going to the park with our dog.")]
    [InlineData("de", "Das Wetter ist heute schön und wir gehen mit dem Hund in den Park.")]
    [InlineData("it", "Il tempo è bello oggi e andiamo al parco con il nostro cane.")]
    [InlineData("pt", "O tempo está bom hoje e vamos ao parque com o nosso cão.")]
    [InlineData("fi", "Sää on tänään kaunis ja menemme puistoon koiran kanssa.")]
    [InlineData("sw", "Hali ya hewa ni nzuri leo na tunaenda kwenye bustani na mbwa wetu.")]
    [InlineData("vi", "Hôm nay thời tiết đẹp và chúng tôi đi công viên với con chó của mình.")]
    [InlineData("ru", "Сегодня хорошая погода, и мы идём в парк с нашей собакой.")]
    [InlineData("bg", "Времето днес е хубаво и ние отиваме в парка с нашето куче.")]
    [InlineData("hi", "आज मौसम अच्छा है और हम अपने कुत्ते के साथ पार्क में जा रहे हैं।")]
    [InlineData("mr", "आज हवामान छान आहे आणि आम्ही आमच्या कुत्र्यासोबत बागेत जात आहोत.")]
    [InlineData("ne", "आज मौसम राम्रो छ र हामी हाम्रो कुकुरसँग पार्कमा जाँदैछौं।")]
    [InlineData("ar", "الطقس جميل اليوم ونحن ذاهبون إلى الحديقة مع كلبنا.")]
    [InlineData("fa", "امروز هوا خوب است و ما با سگ خود به پارک می رویم.")]
    [InlineData("ur", "آج موسم اچھا ہے اور ہم اپنے کتے کے ساتھ پارک جا رہے ہیں۔")]
    [InlineData("ko", "오늘 날씨가 좋아서 우리는 개와 함께 공원에 갑니다.")]
    [InlineData("th", "วันนี้อากาศดีและเราจะไปสวนสาธารณะกับสุนัขของเรา")]
    [InlineData("bn", "আজ আবহাওয়া ভালো এবং আমরা আমাদের কুকুরের সাথে পার্কে যাচ্ছি।")]
    [InlineData("ta", "இன்று வானிலை நன்றாக உள்ளது, நாங்கள் எங்கள் நாயுடன் பூங்காவிற்கு செல்கிறோம்.")]
    [InlineData("te", "ఈ రోజు వాతావరణం బాగుంది మరియు మేము మా కుక్కతో పార్కుకు వెళ్తున్నాము.")]
    [InlineData("kn", "ಇಂದು ಹವಾಮಾನ ಚೆನ್ನಾಗಿದೆ ಮತ್ತು ನಾವು ನಮ್ಮ ನಾಯಿಯೊಂದಿಗೆ ಉದ್ಯಾನಕ್ಕೆ ಹೋಗುತ್ತಿದ್ದೇವೆ.")]
    [InlineData("gu", "આજે હવામાન સરસ છે અને અમે અમારા કૂતરા સાથે બગીચામાં જઈ રહ્યા છીએ.")]
    [InlineData("pa", "ਅੱਜ ਮੌਸਮ ਵਧੀਆ ਹੈ ਅਤੇ ਅਸੀਂ ਆਪਣੇ ਕੁੱਤੇ ਨਾਲ ਪਾਰਕ ਜਾ ਰਹੇ ਹਾਂ।")]
    public void Detect_ShortSentence_ReturnsItsLanguage(string expected, string text) =>
        Assert.Equal(expected, LanguageDetector.Detect(text));

    [Theory]
    [InlineData("")]
    [InlineData("123 456 !!! ...")]
    [InlineData("https://example.com/path test@example.org")]
    public void Detect_NoLetters_ReturnsNull(string text) => Assert.Null(LanguageDetector.Detect(text));

    [Fact]
    public void Detect_MostlyHindiWithEnglishWords_IgnoresLatinNoise() =>
        Assert.Equal("hi", LanguageDetector.Detect("यह एक अच्छा दिन है और हम पार्क में जाते हैं (OK)।"));
}
