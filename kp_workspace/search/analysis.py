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
import copyreg
import functools
import unicodedata

from whoosh.analysis import (CompositeAnalyzer, Filter, LowercaseFilter, RegexTokenizer,
                             StemFilter, StopFilter, Token)
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


def whoosh_class(obj):
    """The whoosh class that ``obj``'s class refines (or is)."""
    return next(c for c in type(obj).__mro__ if c.__module__.startswith('whoosh.'))


class PickledAsWhoosh:
    """Pickled as the whoosh class it refines, with the same state.  An index keeps
    its schema pickled in its table of contents: written this way, any release (an
    older one still running, or one rolled back to) reads it; the engine reads and
    writes with the code's own classes (:meth:`~.engine.WhooshEngine._open`)."""

    def __reduce_ex__(self, protocol):
        return copyreg._reconstructor, (whoosh_class(self), object, None), self.__getstate__()


class WorkspaceAnalyzer(PickledAsWhoosh, CompositeAnalyzer):
    """The chain of :func:`workspace_analyzer`, run as one loop for the calls that
    indexing and snippets (stop words kept) make: the same tokens, without a
    generator per filter (a third of the time of a rebuild went to analysis).  Any
    other call, or a chain that is not exactly this one, goes through the filters
    one by one."""

    _PLAIN = frozenset(('positions', 'chars', 'boosts', 'mode', 'start_pos', 'start_char',
                        'removestops'))

    def __call__(self, value, no_morph=False, **kwargs):
        if no_morph or not kwargs.keys() <= self._PLAIN or not isinstance(value, str):
            return super().__call__(value, no_morph=no_morph, **kwargs)
        parts = self._parts()
        if parts is None:
            return super().__call__(value, **kwargs)
        return self._tokens(value, *parts, **kwargs)

    def _parts(self):
        """``(tokenizer, stop filter, stemmer)`` when the chain is the usual one."""
        items = self.items
        if len(items) != 5 or [type(i) for i in items] != [
                RegexTokenizer, UrduFold, LowercaseFilter, StopFilter, LatinOnly]:
            return None
        tokenizer, _fold, _lower, stop, latin = items
        stem = latin.inner
        if (tokenizer.gaps or type(stem) is not StemFilter or stem.lang
                or stem.stemfn is not porter_stem):
            return None
        return tokenizer, stop, stem

    def positions(self, value):
        """``{word: [position, ...]}`` of ``value`` as indexed (what whoosh's
        positions format gathers from the tokens), or None when the chain is not
        the usual one."""
        parts = self._parts()
        if parts is None or not isinstance(value, str):
            return None
        found = {}
        for text, pos, _match, _stopped in self._words(value, *parts):
            poslist = found.get(text)
            if poslist is None:
                found[text] = [pos]
            else:
                poslist.append(pos)
        return found

    def spans(self, value):
        """``(word, position, match, stopped)`` of every word of ``value`` as
        highlighting reads them (stop words kept, in their place, not stemmed;
        ``match`` the regular expression's, for the word's place in ``value``), or
        None when the chain is not the usual one."""
        parts = self._parts()
        if parts is None or not isinstance(value, str):
            return None
        return self._words(value, *parts, removestops=False)

    @classmethod
    def _tokens(cls, value, tokenizer, stop, stem, positions=False, chars=False, start_pos=0,
                start_char=0, removestops=True, **kwargs):
        t = Token(positions, chars, removestops=removestops, **kwargs)
        for text, pos, match, stopped in cls._words(value, tokenizer, stop, stem, removestops):
            t.text, t.boost, t.stopped = text, 1.0, stopped
            if positions:
                t.pos = start_pos + pos
            if chars:
                t.startchar = start_char + match.start()
                t.endchar = start_char + match.end()
            yield t

    @staticmethod
    def _words(value, tokenizer, stop, stem, removestops=True):
        """``(word, position, match, stopped)`` of each word kept, numbered as the
        stop filter numbers them; stop words too (not stemmed, in their place) unless
        ``removestops``."""
        stops, shortest, longest, ignore = stop.stops, stop.min, stop.max, stem.ignore
        renumber, kept = stop.renumber, None  # (words kept are numbered on from the first)
        for pos, match in enumerate(tokenizer.expression.finditer(value)):
            text = match.group(0)
            if not text.isascii():
                text = _fold_word(text)
                if not text:
                    continue
            text = text.lower()
            if (len(text) < shortest or (longest is not None and len(text) > longest)
                    or text in stops):
                if not removestops:
                    yield text, pos, match, True
                continue
            if text.isascii() and text not in ignore:
                text = cached_porter_stem(text)
            kept = kept + 1 if renumber and kept is not None else pos
            yield text, kept, match, False


def workspace_analyzer():
    return WorkspaceAnalyzer(RegexTokenizer(WORD), UrduFold(), LowercaseFilter(),
                             StopFilter(minsize=1), LatinOnly(StemFilter()))
