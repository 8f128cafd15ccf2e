#!/usr/bin/python3
"""Writes golden.jsonl.gz: langdetect 1.0.9's answers (seed 0) on a deterministic set of texts.

Run with Debian's interpreter and package: apt-get install python3-langdetect; /usr/bin/python3 make_golden.py
[path/to/input_data.jsonl] (default: ../../../../../shared/data/ifeval/input_data.jsonl, i.e. /work/shared/...).
Each line: {"text", "lang" (detect(): null where it raises "No features in text"), "probs" ([lang, p] from
get_probabilities(), p as Python's repr so the C# port can be compared bit for bit)}. The last line holds
{"python_texts_per_s"} for comparison with the port.
"""
import gzip
import json
import os
import random
import sys
import time
import unicodedata

from langdetect import DetectorFactory, LangDetectException
from langdetect import detector_factory

DetectorFactory.seed = 0
detector_factory.init_factory()
factory = detector_factory._factory

here = os.path.dirname(os.path.abspath(__file__))
input_path = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/data/ifeval/input_data.jsonl'
examples = [json.loads(line) for line in open(input_path, encoding='utf-8') if line.strip()]
prompts = [e['prompt'] for e in examples]
LANGUAGE_CHECKS = {'language:response_language', 'change_case:english_capital', 'change_case:english_lowercase'}
language_prompts = [e['prompt'] for e in examples if LANGUAGE_CHECKS & set(e['instruction_id_list'])]
rng = random.Random(20261206)

# One or two sentences per language IFEval's kwargs name, plus neighbours langdetect confuses them with.
SENTENCES = {
    'en': ['The weather is nice today and we are going to the park with our dog.',
           'Please write a short poem about the ocean and the stars.'],
    'de': ['Das Wetter ist heute schön und wir gehen mit dem Hund in den Park.',
           'Ich möchte einen kurzen Brief an meine Großmutter schreiben.'],
    'fr': ['Il fait beau aujourd\'hui et nous allons au parc avec notre chien.',
           'Écrivez une courte histoire sur un garçon qui aime la mer.'],
    'es': ['Hace buen tiempo hoy y vamos al parque con nuestro perro.',
           '¿Puedes escribir un poema corto sobre el océano?'],
    'it': ['Il tempo è bello oggi e andiamo al parco con il nostro cane.',
           'Scrivi una breve lettera a tua nonna per il suo compleanno.'],
    'pt': ['O tempo está bom hoje e vamos ao parque com o nosso cão.',
           'Escreva um poema curto sobre o mar e as estrelas.'],
    'nl': ['Het weer is mooi vandaag en we gaan met de hond naar het park.'],
    'fi': ['Sää on tänään kaunis ja menemme puistoon koiran kanssa.',
           'Kirjoita lyhyt runo merestä ja tähdistä.'],
    'sw': ['Hali ya hewa ni nzuri leo na tunaenda kwenye bustani na mbwa wetu.',
           'Andika shairi fupi kuhusu bahari na nyota.'],
    'vi': ['Hôm nay thời tiết đẹp và chúng tôi đi công viên với con chó của mình.',
           'Hãy viết một bài thơ ngắn về biển và những vì sao.'],
    'ru': ['Сегодня хорошая погода, и мы идём в парк с нашей собакой.',
           'Напишите короткое стихотворение о море и звёздах.'],
    'bg': ['Времето днес е хубаво и ние отиваме в парка с нашето куче.',
           'Напишете кратко стихотворение за морето и звездите.'],
    'uk': ['Сьогодні гарна погода, і ми йдемо в парк з нашим собакою.'],
    'hi': ['आज मौसम अच्छा है और हम अपने कुत्ते के साथ पार्क में जा रहे हैं।',
           'समुद्र और तारों के बारे में एक छोटी कविता लिखिए।'],
    'mr': ['आज हवामान छान आहे आणि आम्ही आमच्या कुत्र्यासोबत बागेत जात आहोत.',
           'समुद्र आणि ताऱ्यांबद्दल एक छोटी कविता लिहा.'],
    'ne': ['आज मौसम राम्रो छ र हामी हाम्रो कुकुरसँग पार्कमा जाँदैछौं।',
           'समुद्र र ताराहरूको बारेमा एउटा छोटो कविता लेख्नुहोस्।'],
    'ar': ['الطقس جميل اليوم ونحن ذاهبون إلى الحديقة مع كلبنا.',
           'اكتب قصيدة قصيرة عن البحر والنجوم.'],
    'fa': ['امروز هوا خوب است و ما با سگ خود به پارک می رویم.',
           'یک شعر کوتاه درباره دریا و ستاره‌ها بنویسید.'],
    'ur': ['آج موسم اچھا ہے اور ہم اپنے کتے کے ساتھ پارک جا رہے ہیں۔',
           'سمندر اور ستاروں کے بارے میں ایک مختصر نظم لکھیں۔'],
    'ko': ['오늘 날씨가 좋아서 우리는 개와 함께 공원에 갑니다.',
           '바다와 별에 관한 짧은 시를 써 주세요.'],
    'ja': ['今日は天気が良いので、犬と一緒に公園に行きます。',
           '海と星についての短い詩を書いてください。'],
    'zh': ['今天天气很好，我们和狗一起去公园。', '请写一首关于大海和星星的短诗。'],
    'th': ['วันนี้อากาศดีและเราจะไปสวนสาธารณะกับสุนัขของเรา',
           'เขียนบทกวีสั้น ๆ เกี่ยวกับทะเลและดวงดาว'],
    'bn': ['আজ আবহাওয়া ভালো এবং আমরা আমাদের কুকুরের সাথে পার্কে যাচ্ছি।',
           'সমুদ্র এবং তারা সম্পর্কে একটি ছোট কবিতা লিখুন।'],
    'ta': ['இன்று வானிலை நன்றாக உள்ளது, நாங்கள் எங்கள் நாயுடன் பூங்காவிற்கு செல்கிறோம்.',
           'கடல் மற்றும் நட்சத்திரங்களைப் பற்றி ஒரு சிறிய கவிதை எழுதுங்கள்.'],
    'te': ['ఈ రోజు వాతావరణం బాగుంది మరియు మేము మా కుక్కతో పార్కుకు వెళ్తున్నాము.',
           'సముద్రం మరియు నక్షత్రాల గురించి ఒక చిన్న కవిత రాయండి.'],
    'kn': ['ಇಂದು ಹವಾಮಾನ ಚೆನ್ನಾಗಿದೆ ಮತ್ತು ನಾವು ನಮ್ಮ ನಾಯಿಯೊಂದಿಗೆ ಉದ್ಯಾನಕ್ಕೆ ಹೋಗುತ್ತಿದ್ದೇವೆ.',
           'ಸಮುದ್ರ ಮತ್ತು ನಕ್ಷತ್ರಗಳ ಬಗ್ಗೆ ಒಂದು ಸಣ್ಣ ಕವಿತೆಯನ್ನು ಬರೆಯಿರಿ.'],
    'gu': ['આજે હવામાન સરસ છે અને અમે અમારા કૂતરા સાથે બગીચામાં જઈ રહ્યા છીએ.',
           'સમુદ્ર અને તારાઓ વિશે એક ટૂંકી કવિતા લખો.'],
    'pa': ['ਅੱਜ ਮੌਸਮ ਵਧੀਆ ਹੈ ਅਤੇ ਅਸੀਂ ਆਪਣੇ ਕੁੱਤੇ ਨਾਲ ਪਾਰਕ ਜਾ ਰਹੇ ਹਾਂ।',
           'ਸਮੁੰਦਰ ਅਤੇ ਤਾਰਿਆਂ ਬਾਰੇ ਇੱਕ ਛੋਟੀ ਕਵਿਤਾ ਲਿਖੋ।'],
    'ro': ['Astăzi vremea este frumoasă și mergem în parc cu câinele nostru.',
           'Scrieți o poezie scurtă despre mare și stele, țară frumoasă.'],
    'pl': ['Dzisiaj jest ładna pogoda i idziemy do parku z naszym psem.'],
    'tr': ['Bugün hava güzel ve köpeğimizle parka gidiyoruz.'],
    'el': ['Σήμερα ο καιρός είναι ωραίος και πηγαίνουμε στο πάρκο με τον σκύλο μας.'],
    'he': ['היום מזג האוויר נעים ואנחנו הולכים לפארק עם הכלב שלנו.'],
    'id': ['Cuaca hari ini bagus dan kami pergi ke taman bersama anjing kami.'],
    'sv': ['Vädret är fint idag och vi går till parken med vår hund.'],
    'cs': ['Dnes je hezké počasí a jdeme s naším psem do parku.'],
    'hu': ['Ma szép idő van, és a kutyánkkal megyünk a parkba.'],
}

CODE = [
    'def add(a, b):\n    return a + b\n',
    'for (int i = 0; i < n; i++) { sum += x[i]; }',
    'SELECT name, age FROM users WHERE age > 30 ORDER BY name;',
    '```python\nimport json\nprint(json.dumps({"a": 1}))\n```',
    '<html><body><p>Hello</p></body></html>',
    '{"name": "Alice", "age": 30, "city": "Paris"}',
    'x = [i * i for i in range(10) if i % 2 == 0]',
    'console.log(`value: ${value}`);',
]

SPECIAL = [
    '', ' ', '   ', '123', '123 456 !!! ...', '3.14159', '***', '---', '\n\n', '😀😀😀', '😀 smile 😀',
    'https://example.com/path test@example.org', 'see https://en.wikipedia.org/wiki/Language for more',
    'mail me at john.doe@example.com please', 'A', 'a', 'I', 'OK', 'ok', 'Yes', 'YES', 'no', 'NO', 'Hi!',
    'Mr. Smith', 'e.g.', 'etc.', 'IFEval', 'JSON', 'C#', 'x', 'xyz abc opq', 'abc', 'AbC', 'aBc',
    '\u00a0\u00ab\u00b0\u00bb', 'caf\u00e9', 'na\u00efve r\u00e9sum\u00e9', '\u2014\u2013\u2026',
    'ș ț ş ţ', 'țară și școală', 'ی ي', 'کتاب یک', '\u1ea0\u1ea1\u1eff', 'ひらがな カタカナ', 'ㄅㄆㄇ ㆠㆡ',
    '한국어 텍스트', '漢字 汉字', '\U00020000\U00020001', 'Ⅰ Ⅱ Ⅲ', 'ⒶⒷⒸ', 'ǅ ǈ ǋ', 'ǅungla', 'İstanbul',
    'ß ẞ', 'ÆØÅ æøå', '[]^_`', 'A[B]C', 'a_b_c', 'a\u0301b\u0300c', 'tha\u0300nh pho\u0302\u0301',
    'Vie\u0323\u0302t Nam', 'tab\tseparated\ttext', 'line\r\nbreaks\rhere',
]


def detect(text):
    detector = factory.create()
    detector.append(text)
    try:
        probs = detector.get_probabilities()
    except LangDetectException:
        return None, []
    return (probs[0].lang if probs else 'unknown'), [[p.lang, repr(p.prob)] for p in probs]


def loose_variants(response):
    # IFEval's test_instruction_following_loose: first/last line removed, asterisks removed.
    r = response.split('\n')
    first = '\n'.join(r[1:]).strip()
    last = '\n'.join(r[:-1]).strip()
    both = '\n'.join(r[1:-1]).strip()
    return [response, response.replace('*', ''), first, last, both,
            first.replace('*', ''), last.replace('*', ''), both.replace('*', '')]


def words_of(text):
    return [w for w in text.split() if w]


texts = []
add = texts.append
for t in SPECIAL:
    add(t)
for p in prompts:
    add(p)
    add(p.upper())
    add(p.lower())
for p in language_prompts:
    # What the loose score asks langdetect about when the response is the prompt (as is, upper-, lower-cased).
    for response in (p, p.upper(), p.lower()):
        for v in loose_variants(response):
            add(v)
for p in prompts:
    # Sentences and one-line fragments of the prompts, as short answers look.
    for s in p.replace('?', '.').replace('!', '.').split('.'):
        s = s.strip()
        if len(s.split()) >= 2:
            add(s)
all_words = sorted({w.strip('.,;:!?"\'()*[]') for p in prompts for w in words_of(p)} - {''})
for w in rng.sample(all_words, 900):
    add(w)
for w in rng.sample(all_words, 300):
    add(w.upper())
for w in rng.sample(all_words, 300):
    add(w.lower())
for k in range(400):
    n = rng.randint(2, 12)
    line = ' '.join(rng.choice(all_words) for _ in range(n))
    add(line if k % 3 else line.upper() if k % 2 else line.lower())
for k in range(150):
    items = [' '.join(rng.choice(all_words) for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(2, 6))]
    bullet = rng.choice(['* ', '- ', '1. ', ''])
    add('\n'.join(bullet + it for it in items))
for lang, sents in SENTENCES.items():
    for s in sents:
        add(s)
        add(s.upper())
        add(s.lower())
        ws = s.split()
        for n in range(1, len(ws)):
            add(' '.join(ws[:n]))
        for w in ws:
            add(w)
        add(unicodedata.normalize('NFD', s))
        add('* ' + s + '\n* ' + s)
langs = sorted(SENTENCES)
for k in range(400):
    a, b = rng.sample(langs, 2)
    sa, sb = rng.choice(SENTENCES[a]), rng.choice(SENTENCES[b])
    add(rng.choice([sa + ' ' + sb, sa + '\n' + sb, sa + ' (' + ' '.join(sb.split()[:2]) + ')']))
for k in range(150):
    p = rng.choice(prompts)
    lang = rng.choice(langs)
    add(p[:rng.randint(10, 200)] + ' ' + rng.choice(SENTENCES[lang]))
for c in CODE:
    add(c)
    add(c.upper())
    add(c + '\n' + rng.choice(prompts))
for k in range(60):
    add(rng.choice(prompts) + ' ' + rng.choice(CODE))
add(' '.join(prompts)[:30000])
add(('word ' * 3000) + ' '.join(SENTENCES['de']))

seen, unique = set(), []
for t in texts:
    if t not in seen:
        seen.add(t)
        unique.append(t)

start = time.perf_counter()
results = [detect(t) for t in unique]
elapsed = time.perf_counter() - start
out = os.path.join(here, 'golden.jsonl.gz')
with open(out, 'wb') as f:
    with gzip.GzipFile(filename='', mode='wb', fileobj=f, mtime=0, compresslevel=9) as gz:
        for t, (lang, probs) in zip(unique, results):
            gz.write((json.dumps({'text': t, 'lang': lang, 'probs': probs}, ensure_ascii=False,
                                 separators=(',', ':')) + '\n').encode('utf-8'))
        gz.write((json.dumps({'python_texts_per_s': round(len(unique) / elapsed, 1)}) + '\n').encode())
print(out, len(unique), 'texts', os.path.getsize(out), 'bytes', round(len(unique) / elapsed, 1), 'texts/s')
