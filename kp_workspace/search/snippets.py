"""Snippets: the text around the first word a search matched, the words marked.

Index documents do not store their text; a snippet is cut from the item's text
as it is in the database.  Analysing that whole text again for every hit (an
attachment may hold 200,000 characters) was most of a search's time, so only a
neighbourhood is analysed: a plain regular expression built once per query
from its words (in any case, with Urdu diacritics and Arabic-keyboard letters
allowed for) finds where a matched word may stand, the word there is checked
with the real analyzer, and only a window of text around it is highlighted.

The window is highlighted as Whoosh's ``highlight`` does with a
``ContextFragmenter`` and an ``HtmlFormatter`` (the same fragments, the best two
in order, the same marks), in one loop over the analyzer's words instead of a
token object, a generator and a fragment object each: that was a quarter of the time of
a search page.  When the analyzer is not the workspace's, Whoosh's own runs.
"""
import heapq
import re
from collections import deque
from html import escape

from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight

from .analysis import FOLD, WORD

FIELDS = ('content', 'title')
BEFORE, AFTER = 150, 350   # characters of text analysed around the first match
CANDIDATES = 20            # places a word may stand that are checked with the analyzer
MAX_WORDS = 50             # words marked (a prefix query may expand to thousands)
MAXCHARS, SURROUND, TOP = 200, 40, 2  # a fragment's length, its context, fragments shown
BETWEEN = ' … '            # between two fragments
MARK = '<mark class="match term%d">%s</mark>'
CLASSES = 5                # term0...term4, then again from term0 (HtmlFormatter's maxclasses)
CHARLIMIT = 2 ** 15        # characters a fragmenter looks at (ContextFragmenter's)
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
        # the window's words in one loop (WorkspaceAnalyzer.spans), if it can
        spans = getattr(analyzer, 'spans', None)
        self._words = spans if spans is not None and spans('') is not None else None

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
        words = frozenset(words)
        # (the marks number the words as they come: one numbering per query, never
        # shared by threads)
        if self._words is None:
            fragmenter = ContextFragmenter(maxchars=MAXCHARS, surround=SURROUND)
            formatter = HtmlFormatter(tagname='mark', between=BETWEEN, maxclasses=CLASSES)

            def marked(window):
                return highlight(window, words, self.analyzer, fragmenter, formatter, top=TOP,
                                 mode='index')
        else:
            seen = {}

            def marked(window):
                return _marked(window, _fragments(self._words(window), words), seen)

        def snippet(text):
            if not text:
                return ''
            start = self._first_match(text, words, finder)
            return marked(text[max(0, start - BEFORE):start + AFTER])
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


def _fragments(tokens, words):
    """The fragments of ``tokens`` (the analyzer's words of a text) that Whoosh's
    ``ContextFragmenter(MAXCHARS, SURROUND)`` makes, as ``(start, end, marks)``,
    ``marks`` the ``(start, end, word)`` of the words of ``words`` in it: the same
    steps, on numbers (a fragment with no mark is made too, as Whoosh makes it)."""
    first, firsts, countdown, marks, end, length = None, deque(), -1, [], None, 0
    for text, _pos, match, _stopped in tokens:
        start, end = match.span()
        size = end - start
        if end > CHARLIMIT:
            break
        matched = text in words
        if countdown < 0 and not matched:
            firsts.append(start)
            while firsts and end - firsts[0] > SURROUND:
                firsts.popleft()
        elif length + size > MAXCHARS:
            countdown = 0
        elif matched:
            countdown = SURROUND
            if first is None:
                if firsts:
                    first = firsts[0]
                else:
                    first = start
                    countdown += SURROUND
            marks.append((start, end, text))
        if countdown >= 0:
            length += size
            countdown -= size
            if countdown <= 0:
                yield _fragment(marks, first, end)
                first, firsts, marks, length = None, deque(), [], 0
    if marks:
        yield _fragment(marks, first, end)


def _fragment(marks, start, end):
    if start is None:
        start = marks[0][0] if marks else 0
    return max(0, start), end, marks


def _marked(text, fragments, seen):
    """The best :data:`TOP` of ``fragments`` in the order of the text, the words
    marked, as Whoosh's ``highlight`` gives them (its fragment scorer: the marks
    times a hundred for each different word; of two alike, the later; ``seen``
    numbers the words marked, as its ``HtmlFormatter`` does)."""
    scored = ((len(marks) * (len({m[2] for m in marks}) * 100 or 1), start, end, marks)
              for start, end, marks in fragments)
    best = sorted((f for f in heapq.nlargest(TOP, scored) if f[0] >= 1), key=lambda f: f[1])
    out = []
    for _score, start, end, marks in best:
        parts, index = [], start
        for mark_start, mark_end, _word in marks:  # (in order; words never overlap)
            if mark_start > index:
                parts.append(escape(text[index:mark_start], quote=False))
            word = escape(text[mark_start:mark_end], quote=False)
            number = seen.get(word)
            if number is None:
                number = seen[word] = len(seen) % CLASSES
            parts.append(MARK % (number, word))
            index = mark_end
        parts.append(escape(text[index:min(end, len(text))], quote=False))
        out.append(''.join(parts))
    return BETWEEN.join(out)
