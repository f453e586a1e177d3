"""One analyzer for English and Urdu, used for indexing and for queries alike.

- Words are runs of letters, digits and the Arabic combining marks, so a word
  written with diacritics (zer, zabar, pesh, shadd...) stays one word.
- Text is NFKC-normalised (text extracted from PDFs arrives in Arabic
  presentation forms), the combining marks are dropped, and the letters that
  Arabic keyboards type for Urdu ones are folded: yeh (U+064A) and alef maksura
  to Farsi yeh (U+06CC), kaf (U+0643) to keheh (U+06A9), heh (U+0647) to heh
  goal (U+06C1), teh marbuta (U+0629) to teh marbuta goal (U+06C3).
- Latin words are lower-cased, English stop words dropped and stemmed (Porter).
"""
import functools
import unicodedata

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang.porter import stem as porter_stem

WORD = r'[\w\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E8\u06EA-\u06ED]+'
FOLD = str.maketrans({'\u064A': '\u06CC', '\u0649': '\u06CC', '\u0643': '\u06A9',
                      '\u0647': '\u06C1', '\u0629': '\u06C3', '\u0640': None})


def fold_text(text):
    """Normalise one word of any script as described above."""
    # (ASCII is its own NFKC and NFC form, has no combining marks and nothing to
    # fold: most words of an English archive need no work at all)
    return text if text.isascii() else _fold_word(text)


@functools.lru_cache(maxsize=65536)
def _fold_word(text):
    text = unicodedata.normalize('NFKC', text)
    text = ''.join(c for c in text if unicodedata.category(c) != 'Mn')
    return unicodedata.normalize('NFC', text.translate(FOLD))


# The Porter stemmer behind one bounded cache for the whole process (whoosh's own
# cache is per filter and costs more than a dictionary look-up).
cached_porter_stem = functools.lru_cache(maxsize=100_000)(porter_stem)


class UrduFold(Filter):
    def __call__(self, tokens):
        for t in tokens:
            t.text = fold_text(t.text)
            if t.text:
                yield t


class LatinOnly(Filter):
    """Apply ``inner`` (stemming) only to Latin-script words."""

    def __init__(self, inner):
        self.inner = inner

    def __eq__(self, other):
        return isinstance(other, LatinOnly) and self.inner == other.inner

    def __call__(self, tokens):
        inner = self.inner
        if type(inner) is not StemFilter or inner.lang or inner.stemfn is not porter_stem:
            yield from self._through_inner(tokens)
            return
        # What StemFilter does to one token, without a generator per token
        ignore = inner.ignore
        for t in tokens:
            text = t.text
            if text.isascii() and not t.stopped and text not in ignore:
                t.text = cached_porter_stem(text)
            yield t

    def _through_inner(self, tokens):
        for t in tokens:
            if t.text.isascii():
                yield from self.inner([t])
            else:
                yield t


def workspace_analyzer():
    return (RegexTokenizer(WORD) | UrduFold() | LowercaseFilter()
            | StopFilter(minsize=1) | LatinOnly(StemFilter()))
