#!/usr/bin/python3
"""Writes langdetect-profiles.json.gz: langdetect 1.0.9's 55 language profiles and normalisation tables.

Run with Debian's interpreter and package (apt-get install python3-langdetect; /usr/bin/python3 make_profiles.py).
The language order is the order DetectorFactory.load_profile gets from os.listdir on the machine that ran this
script; it only decides float summation order and ties, and is recorded so the C# port sums in the same order as the
Python run that produced the golden file.
"""
import gzip
import json
import os

import langdetect
from langdetect.utils import messages
from langdetect.utils.ngram import NGram

root = os.path.dirname(langdetect.__file__)
profile_dir = os.path.join(root, 'profiles')
langs, n_words, grams = [], [], {}
# Same iteration and filtering as DetectorFactory.load_profile.
for filename in os.listdir(profile_dir):
    if filename.startswith('.') or not os.path.isfile(os.path.join(profile_dir, filename)):
        continue
    with open(os.path.join(profile_dir, filename), encoding='utf-8') as f:
        profile = json.load(f)
    index = len(langs)
    langs.append(profile['name'])
    n_words.append(profile['n_words'])
    for gram, count in profile['freq'].items():
        grams.setdefault(gram, []).extend([index, count])

data = {
    'source': 'langdetect %s (Apache-2.0), %s' % (getattr(langdetect, '__version__', '1.0.9'), root),
    'langs': langs,
    'nWords': n_words,
    'latin1Exclude': NGram.LATIN1_EXCLUDED,
    'toNormalizeVi': NGram.TO_NORMALIZE_VI_CHARS,
    'dmarkClass': NGram.DMARK_CLASS,
    'normalizedVi': NGram.NORMALIZED_VI_CHARS,
    'cjkClasses': NGram.CJK_CLASS,
    # Sorted so the file is byte-identical however the profiles were listed.
    'grams': dict(sorted(grams.items())),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'langdetect-profiles.json.gz')
payload = json.dumps(data, ensure_ascii=False, separators=(',', ':')).encode('utf-8')
with open(out, 'wb') as f:
    with gzip.GzipFile(filename='', mode='wb', fileobj=f, mtime=0, compresslevel=9) as gz:
        gz.write(payload)
print(out, len(payload), os.path.getsize(out), len(langs), len(grams))
