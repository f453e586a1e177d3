"""The query language of the PostgreSQL engine: what people type, as a ``tsquery``.

Whoosh's query language as people use it (:class:`_Parser`): words, ``"phrases"``,
``AND``, ``OR``, ``NOT`` (also ``ANDNOT``, ``ANDMAYBE``), brackets, the fields
``title:``, ``content:`` and ``number:``, a ``*`` or ``?`` ending a word (a prefix:
PostgreSQL matches prefixes only), a lone ``*`` (everything).  Words are analysed
by the index's own analyzer, and the ``tsquery`` is made of quoted lexemes only
(:func:`quote`), so no character a user types is taken for ``tsquery`` syntax,
and the text reaches PostgreSQL as a parameter, never as SQL.

A word is also looked for as a file number, as written (the lexeme ``#`` + the
number that :class:`~.postgres.PostgresEngine` adds to every document of a file);
a word that the analyzer splits (``FD/2026/0001``, ``e-mail``) is a phrase of its
parts.
"""
import re

from .analysis import WORD, fold_text
from .engine import QueryError

MAX_DEPTH = 16          # brackets inside brackets in a query
MAX_LEXEME_BYTES = 2046  # PostgreSQL's limit for one lexeme
FIELD_WEIGHTS = {'title': 'A', 'content': 'B'}  # the weights the engine gives their words
OPERATORS = ('AND', 'OR', 'NOT', 'ANDNOT', 'ANDMAYBE')
WILDCARDS = '*?'
_WORD = re.compile(WORD)
_BOOST = re.compile(r'\^[0-9.]*$')  # word^2: a boost, in Whoosh; ignored here
_TOKENS = re.compile(r'(?P<open>\()|(?P<close>\))|(?P<phrase>"[^"]*"?)|(?P<word>[^\s()"]+)')


def quote(lexeme):
    """``lexeme`` as a quoted ``tsvector``/``tsquery`` operand."""
    return "'" + lexeme.replace('\\', '\\\\').replace("'", "''") + "'"


def fits(lexeme):
    """Whether PostgreSQL takes ``lexeme`` (not empty, not too long)."""
    return 0 < len(lexeme.encode('utf-8')) <= MAX_LEXEME_BYTES


EVERY = ('every',)   # matches every document (a lone ``*``)


class _Term:
    """Words that follow each other (one word, or a phrase), optionally the last
    one a prefix; or the file number ``number`` as written; in ``weight``s only."""

    def __init__(self, words, prefix=False, weight='', number=None):
        self.words, self.prefix, self.weight, self.number = words, prefix, weight, number

    def tsquery(self):
        parts = []
        if self.words:
            operands = [quote(w) + (':' + self.weight if self.weight else '')
                        for w in self.words]
            if self.prefix:
                operands[-1] = quote(self.words[-1]) + ':*' + self.weight
            parts.append(' <-> '.join(operands))
        if self.number is not None:
            parts.append(quote('#' + self.number))
        return parts[0] if len(parts) == 1 else '(' + ' | '.join(parts) + ')'


def _flat(kind, nodes):
    """``nodes`` with those of ``kind`` replaced by their children (a long chain of
    ``AND`` stays one level deep)."""
    found = []
    for node in nodes:
        found.extend(node[1] if isinstance(node, tuple) and node[0] == kind else [node])
    return found


def _join(kind, nodes, identity, absorbing):
    """``nodes`` joined by ``kind`` (flattened): ``identity`` (EVERY for AND, None for
    OR) is left out, ``absorbing`` (the other one) decides the whole."""
    nodes = [n for n in _flat(kind, nodes) if n is not identity]
    if any(n is absorbing for n in nodes):
        return absorbing
    if not nodes:
        return identity
    return nodes[0] if len(nodes) == 1 else (kind, nodes)


def _and(nodes):
    return _join('and', nodes, EVERY, None)


def _or(nodes):
    return _join('or', nodes, None, EVERY)


def _not(node):
    if node is None:
        return EVERY
    if node is EVERY:
        return None
    return ('not', node)


def _resolved(node):
    """A clause as a query: ``('neg', x)`` (a ``NOT`` not yet placed) is ``NOT x``."""
    return _not(node[1]) if isinstance(node, tuple) and node[0] == 'neg' else node


class _Parser:
    """Whoosh's query language as people use it, into a tree of :class:`_Term`,
    ``('and', [...])``, ``('or', [...])``, ``('not', node)``, :data:`EVERY` or None
    (matches nothing).

    Words side by side are alternatives (any of them; more of them rank higher), as
    in Whoosh; ``NOT word`` among them leaves out what has the word.  ``AND``
    binds tighter than ``OR``; ``ANDNOT`` is ``AND NOT``; ``ANDMAYBE`` only ranks
    in Whoosh and is dropped here.  An operator without its operand, and brackets
    or quotes left open, are forgiven as Whoosh forgives them.
    """

    def __init__(self, text, analyzer):
        self.analyzer = analyzer
        self.tokens = []  # (kind, text, start, end)
        for found in _TOKENS.finditer(text):
            self.tokens.append((found.lastgroup, found.group(), found.start(), found.end()))
        self.at = 0

    def _peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _operator(self, token):
        return token is not None and token[0] == 'word' and token[1] in OPERATORS

    def parse(self):
        return self._sequence(0, None)

    def _sequence(self, depth, field):
        positive, negative = [], []
        while True:
            token = self._peek()
            if token is None:
                break
            if token[0] == 'close':
                if depth:
                    break
                self.at += 1  # (a stray closing bracket)
                continue
            if self._operator(token) and token[1] == 'OR':
                self.at += 1
                continue
            start = self.at
            clause = self._and_chain(depth, field)
            if self.at == start:  # (never stand still)
                self.at += 1
                continue
            if isinstance(clause, tuple) and clause[0] == 'neg':
                negative.append(_not(clause[1]))
            elif clause is not False:
                positive.append(clause)
        if not positive and not negative:
            return False  # (nothing was said: no words at all)
        found = _or(positive) if positive else EVERY
        return _and([found] + negative)

    def _and_chain(self, depth, field):
        """Clauses joined by ``AND``/``ANDNOT``/``ANDMAYBE``; a lone ``NOT x`` is
        returned as ``('neg', x)`` for :meth:`_sequence` to place."""
        left = self._unary(depth, field)
        while self._operator(self._peek()) and self._peek()[1] in ('AND', 'ANDNOT', 'ANDMAYBE'):
            operator = self._peek()[1]
            self.at += 1
            right = self._unary(depth, field)
            if right is False:
                break
            if left is False:
                left = right if operator == 'AND' else left
            elif operator == 'AND':
                left = _and([_resolved(left), _resolved(right)])
            elif operator == 'ANDNOT':
                left = _and([_resolved(left), _not(_resolved(right))])
        return left

    def _unary(self, depth, field):
        nots = 0
        while self._operator(self._peek()) and self._peek()[1] == 'NOT':
            self.at += 1
            nots += 1
        operand = self._atom(depth, field)
        return ('neg', operand) if nots % 2 and operand is not False else operand

    def _atom(self, depth, field):
        """One word, phrase or bracketed group; False when there is none here."""
        token = self._peek()
        if token is None or token[0] == 'close':
            return False
        kind, text, _start, end = token
        self.at += 1
        if kind == 'open':
            if depth >= MAX_DEPTH:
                raise QueryError('brackets nested too deeply')
            inner = self._sequence(depth + 1, field)
            if self._peek() is not None and self._peek()[0] == 'close':
                self.at += 1
            return inner
        if kind == 'phrase':
            return self._phrase(text.strip('"'), field)
        if text in OPERATORS:
            return False  # (an operator where a word should be)
        text = _BOOST.sub('', text)
        if not text:
            return False
        name, colon, rest = text.partition(':')
        if colon and name in ('title', 'content', 'number') and field is None:
            if rest:
                return self._word(rest, name)
            following = self._peek()
            if following is not None and following[2] == end and following[0] != 'close':
                return self._atom(depth, name)
        return self._word(text, field)

    def _words(self, text):
        return [t.text for t in self.analyzer(text)]

    def _phrase(self, text, field):
        inner = text.strip()
        number = inner if field in (None, 'number') and len(inner.split()) == 1 else None
        return self._term(self._words(inner) if field != 'number' else [], field, number)

    def _word(self, text, field):
        cut = min((text.find(c) for c in WILDCARDS if c in text), default=-1)
        if cut < 0:
            words = self._words(text) if field != 'number' else []
            return self._term(words, field, text if field in (None, 'number') else None)
        if not _WORD.search(text[:cut]):
            if not text.strip(WILDCARDS):
                return EVERY  # (``*``: everything, as in Whoosh)
            if _WORD.search(text[cut:]):
                raise QueryError('a word cannot begin with * or ?')
            return None
        if field == 'number':
            return None
        # (a prefix is not stemmed: "procur*" finds procurement, "procurement*" does not)
        words = [fold_text(w).lower() for w in _WORD.findall(text[:cut])]
        return self._term([w for w in words if w], field, None, prefix=True)

    def _term(self, words, field, number, prefix=False):
        if number is not None and ('\x00' in number or not fits('#' + number)):
            number = None
        if any(not fits(w) for w in words):
            words = []  # (no such word is in the index)
        if not words and number is None:
            return None
        return _Term(words, prefix, FIELD_WEIGHTS.get(field, ''), number)


def parse(text, analyzer):
    """The query tree of ``text`` (see :class:`_Parser`): False when it says nothing.

    :raises QueryError: brackets nested too deeply, or a word beginning with a wildcard.
    """
    return _Parser(text, analyzer).parse()


def tsquery(node):
    """The ``tsquery`` text of a query tree (neither :data:`EVERY` nor None)."""
    if isinstance(node, _Term):
        return node.tsquery()
    if node[0] == 'not':
        return '!(' + tsquery(node[1]) + ')'
    joiner = ' & ' if node[0] == 'and' else ' | '
    return '(' + joiner.join(tsquery(n) for n in node[1]) + ')'


def marked_words(node, negated=False):
    """``(words, prefixes)`` that snippets mark: those of the title and content
    terms of ``node`` that are not negated."""
    words, prefixes = set(), set()
    if isinstance(node, _Term):
        if not negated and node.weight in ('', 'A', 'B') and node.words:
            if node.prefix:
                words.update(node.words[:-1])
                prefixes.add(node.words[-1])
            else:
                words.update(node.words)
    elif isinstance(node, tuple) and node is not EVERY:
        children = [node[1]] if node[0] == 'not' else node[1]
        for child in children:
            w, p = marked_words(child, negated != (node[0] == 'not'))
            words |= w
            prefixes |= p
    return words, prefixes
