"""Snippets: the text around the first word a search matched, the words marked.

Index documents do not store their text; a snippet is cut from the item's text
as it is in the database.  Analysing that whole text again for every hit (an
attachment may hold 200,000 characters) was most of a search's time, so only a
neighbourhood is analysed: a plain regular expression built once per query
from its words (in any case, with Urdu diacritics and Arabic-keyboard letters
allowed for) finds where a matched word may stand, the word there is checked
with the real analyzer, and only a window of text around it is highlighted.
"""
import re

from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight

from .analysis import FOLD, WORD

FIELDS = ('content', 'title')
BEFORE, AFTER = 150, 350   # characters of text analysed around the first match
CANDIDATES = 20            # places a word may stand that are checked with the analyzer
MAX_WORDS = 50             # words marked (a prefix query may expand to thousands)
_MARKS = '[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E8\u06EA-\u06ED\u0640]*'
_WORD = re.compile(WORD)


def _variants():
    """For each letter the analyzer folds to, the letters that fold to it."""
    found = {}
    for source, target in FOLD.items():
        if target is not None:
            found.setdefault(chr(target) if isinstance(target, int) else target, set()).add(
                chr(source))
    return found


_VARIANTS = _variants()


def _pattern(term):
    """Where ``term`` (an analyzed word) may stand in a text not analysed."""
    if term.isascii():
        # A stem is, nearly always, the start of the words it comes from; Porter
        # turns a final y into i ("happy" -> "happi").
        stem = term[:-1] if len(term) > 3 and term.endswith('i') else term
        return r'(?<!\w)' + re.escape(stem)
    letters = []
    for char in term:
        options = {char} | _VARIANTS.get(char, set())
        letters.append('[' + ''.join(re.escape(c) for c in sorted(options)) + ']' + _MARKS)
    return r'(?<!\w)' + ''.join(letters)


class Snippets:
    def __init__(self, analyzer):
        self.analyzer = analyzer

    def for_query(self, query, reader):
        """A function ``text -> HTML snippet`` (``''`` when nothing matches) for ``query``."""
        # (not query.existing_terms: whoosh-reloaded 2.7.5's reuses its ``fieldname``
        # argument as a loop variable and skips the fields after the first)
        words = set()
        for leaf in query.leaves():
            if leaf.field() in FIELDS:
                for field, term in leaf.expanded_terms(reader, phrases=True):
                    if field in FIELDS and len(words) < MAX_WORDS:
                        words.add(term.decode('utf-8') if isinstance(term, bytes) else term)
        if not words:
            return lambda text: ''
        finder = re.compile('|'.join(_pattern(w) for w in sorted(words, key=len, reverse=True)),
                            re.IGNORECASE)
        # (a formatter numbers the words it marks: one per query, never shared by threads)
        fragmenter = ContextFragmenter(maxchars=200, surround=40)
        formatter = HtmlFormatter(tagname='mark', between=' … ')
        words = frozenset(words)

        def snippet(text):
            if not text:
                return ''
            start = self._first_match(text, words, finder)
            window = text[max(0, start - BEFORE):start + AFTER]
            return highlight(window, words, self.analyzer, fragmenter, formatter, top=2,
                             mode='index')
        return snippet

    def _first_match(self, text, words, finder):
        """Where the first matched word starts (0 when none is found)."""
        for n, found in enumerate(finder.finditer(text)):
            if n == CANDIDATES:
                break
            word = _WORD.match(text, found.start())
            if word and any(t.text in words for t in self.analyzer(word.group(), mode='index')):
                return found.start()
        return 0
