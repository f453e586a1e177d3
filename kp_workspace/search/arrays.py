"""Searching a Whoosh index with arrays: the cost of a search is the cost of its words.

Whoosh finds, scores and counts matches one document at a time in Python.  A word
like "para" is in 84,000 of 141,000 documents of a province of 100,000 files, so
a search for "audit para" visited every one of them (and then left out those the
officer may not open): over a second per search on this machine.

Here each term's postings in a segment are read once into two arrays (document
numbers and weights) and kept while the segment exists (segments never change;
:class:`Postings` keeps them, within a memory budget, for every thread).  A
search is then a few array operations per term over the segment's documents:
which documents match, their scores, which of them the officer may open (the
postings of their principals in ``allowed``), the filters, the counts by kind,
and the best of them in order.

The queries it takes are what people type: words (terms, in any field), with
AND, OR, ANDNOT and ANDMAYBE and brackets.  Anything else (phrases, prefixes,
``NOT`` on its own, ranges) is :class:`Unsupported`, and the engine runs it the
way Whoosh does.

Scores are Whoosh's BM25F for each term (the same inverse document frequency,
average field length, length of the field in the document and term weight, so
the title's boost counts), added up, with Whoosh's coordination bonus for ``OR``
(documents that have more of the words rank higher).  Two things differ, on
purpose: the bonus counts the words the index has, not the words one segment
has, so the order does not change when segments merge; and an OR of which the
index has one term only has no bonus (Whoosh's made every score 0 there: a
word found only in the files' text came out in no order of relevance at all).
"""
import math
import threading
from collections import OrderedDict

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

K1, B = 1.2, 0.75  # Whoosh's BM25F defaults (the engine's searchers use them)
# the field length of each of the 256 bytes Whoosh stores a length as
LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
_NO_IDS = np.zeros(0, dtype=np.int32)
_NO_WEIGHTS = np.zeros(0, dtype=np.float32)
BUDGET_MB = 128  # arrays kept for all threads (a term in 84,000 documents: 0.7 MB)
# what an entry costs beside its arrays' data (key, bytes of the term, the dict's node,
# array headers): a word in no document is an entry with no data at all, and without
# this every different word anyone searched would be kept for ever
ENTRY_BYTES = 512
FREQUENCIES_KEPT = 20_000  # terms a scorer remembers the frequency of (then starts again)


class Unsupported(Exception):
    """A query this module does not evaluate (the engine falls back to Whoosh's way)."""


class Postings:
    """Arrays read from segments, kept for every thread within a memory budget
    (least recently used first out).  Keys start with the segment's id, which no
    other segment ever has: a segment's postings, lengths and columns never change.
    """

    def __init__(self, budget_mb=BUDGET_MB):
        self.budget = budget_mb * 1024 * 1024
        self.used = 0
        self._kept = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, key, read):
        with self._lock:
            found = self._kept.get(key)
            if found is not None:
                self._kept.move_to_end(key)
                return found
        found = read()
        with self._lock:
            if key not in self._kept:
                self._kept[key] = found
                self.used += _size(found)
                while self.used > self.budget and len(self._kept) > 1:
                    _key, old = self._kept.popitem(last=False)
                    self.used -= _size(old)
        return found

    def term(self, leaf, field, btext):
        """``(ids, weights)``: the documents of ``leaf`` (deleted ones too) that
        have ``btext`` in ``field``, in order, and the term's weight in each."""
        return self._get((leaf.segment().segment_id(), 't', field, btext),
                         lambda: _read_postings(leaf, field, btext))

    def lengths(self, leaf, field):
        """The length of ``field`` in each document of ``leaf``, as Whoosh stores it:
        a byte (:data:`LENGTH_OF_BYTE` tells the length)."""
        return self._get((leaf.segment().segment_id(), 'l', field),
                         lambda: _read_lengths(leaf, field))

    def codes(self, leaf, field, values):
        """For each document of ``leaf``, the position in ``values`` of its value of
        ``field`` (``len(values)`` for any other value)."""
        def read():
            found = np.full(leaf.doc_count_all(), len(values),
                            dtype=np.uint8 if len(values) < 255 else np.int64)
            to_bytes = leaf.schema[field].to_bytes
            for code, value in enumerate(values):
                found[self.term(leaf, field, to_bytes(value))[0]] = code
            return found
        return self._get((leaf.segment().segment_id(), 'v', field, values), read)

    def column(self, leaf, field):
        """The sortable column ``field`` of ``leaf``: the numbers Whoosh sorts by
        (its ``to_column_value``), unsigned."""
        return self._get((leaf.segment().segment_id(), 'c', field),
                         lambda: np.fromiter(leaf.column_reader(field, translate=False),
                                             dtype=np.uint64, count=leaf.doc_count_all()))


def _size(found):
    arrays = found if isinstance(found, tuple) else (found,)
    return ENTRY_BYTES + sum(a.nbytes for a in arrays)


def _read_postings(leaf, field, btext):
    try:
        matcher = leaf._terms.matcher(field, btext, leaf.schema[field].format, scorer=None)
    except (KeyError, TermNotFound):
        return _NO_IDS, _NO_WEIGHTS
    ids, weights = [], []
    if type(matcher) is W3LeafMatcher:
        # a block at a time: its ids and weights are arrays already
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.append(np.asarray(matcher._ids, dtype=np.int32))
            weights.append(np.asarray(matcher._weights, dtype=np.float32))
            matcher._next_block()
        if not ids:
            return _NO_IDS, _NO_WEIGHTS
        return np.concatenate(ids), np.concatenate(weights)
    while matcher.is_active():  # (a short list, kept inline with the term)
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)


def length_bytes(perdoc, field):
    """The column of ``field``'s lengths of a segment (its per-document reader
    ``perdoc``): a byte a document, as Whoosh stores a length; empty if it has none."""
    name = _lenfield(field)
    return bytes(perdoc.column_reader(name, LENGTHS_COLUMN).load()) \
        if perdoc.has_column(name) else b''


def _read_lengths(leaf, field):
    found = np.frombuffer(length_bytes(leaf._perdoc, field), dtype=np.uint8)
    return found if len(found) else np.zeros(leaf.doc_count_all(), dtype=np.uint8)


class _Part:
    """What a query (or part of one) found in a segment: which documents match,
    their scores, and for the coordination bonus how many of the query's terms
    each has (``terms``: how many terms the part has in the index)."""
    __slots__ = ('match', 'score', 'count', 'terms')

    def __init__(self, match, score, count, terms):
        self.match, self.score, self.count, self.terms = match, score, count, terms

    def only_matches(self):
        """No score and no terms for the documents that do not match."""
        self.score[~self.match] = 0.0
        self.count[~self.match] = 0


class Scorer:
    """Evaluates queries over the segments of one searcher (kept with it: it
    remembers which terms the index has and which documents are not deleted)."""

    def __init__(self, postings, searcher):
        self.postings = postings
        self.searcher = searcher
        self.schema = searcher.schema
        self._frequencies = {}
        self._live = {}

    def live(self, leaf):
        """The documents of ``leaf`` not deleted (in this searcher's generation)."""
        key = leaf.segment().segment_id()
        found = self._live.get(key)
        if found is None:
            found = np.ones(leaf.doc_count_all(), dtype=bool)
            if leaf.has_deletions():
                found[np.fromiter(leaf.deleted_docs_set, dtype=np.int64)] = False
            self._live[key] = found
        return found

    def check(self, q):
        """Raise :class:`Unsupported` unless every part of ``q`` can be evaluated."""
        if isinstance(q, wq.Term):
            if q.fieldname not in self.schema or not self.schema[q.fieldname].indexed:
                raise Unsupported(q)
        elif isinstance(q, (wq.And, wq.Or)):
            if getattr(q, 'minmatch', 0) or len(q.subqueries) >= wq.Or.TOO_MANY_CLAUSES:
                raise Unsupported(q)
            for sub in q.subqueries:
                self.check(sub)
        elif isinstance(q, (wq.AndNot, wq.AndMaybe)):
            self.check(q.a)
            self.check(q.b)
        elif q is not wq.NullQuery:
            raise Unsupported(q)

    def _btext(self, q):
        return self.schema[q.fieldname].to_bytes(q.text)

    def _frequency(self, q):
        """How many documents of the index have term ``q``, deleted ones counted (as
        Whoosh counts them): from the postings kept of each segment, so a searcher
        after a commit looks up nothing again in the big segments' term tables."""
        key = (q.fieldname, q.text)
        found = self._frequencies.get(key)
        if found is None:
            if len(self._frequencies) >= FREQUENCIES_KEPT:
                self._frequencies.clear()
            btext = self._btext(q)
            found = self._frequencies[key] = sum(
                len(self.postings.term(leaf, q.fieldname, btext)[0])
                for leaf, _offset in self.searcher.reader().leaf_readers()
                if leaf.segment() is not None)
        return found

    def _idf(self, q):
        """Whoosh's inverse document frequency of term ``q`` (its ``Weighting.idf``)."""
        return math.log(self.searcher.doc_count_all() / (self._frequency(q) + 1)) + 1

    def evaluate(self, q, leaf, within=None):
        """``q`` over ``leaf``'s documents, as a :class:`_Part`; with ``within`` (a
        mask of the segment's documents), over those only: a word's postings outside
        it are left out before they are scored (an officer may open a few thousand
        of the tens of thousands of documents a common word is in), and what the
        part says of the other documents is that they do not match."""
        n = leaf.doc_count_all()
        if isinstance(q, wq.AndNot):
            a, b = self.evaluate(q.a, leaf, within), self.evaluate(q.b, leaf, within)
            a.match &= ~b.match
            # (what the NOT left out scores nothing: in an OR it must not add to a
            # document that another part matches)
            a.only_matches()
            a.terms += b.terms
            return a
        if isinstance(q, wq.AndMaybe):
            a, b = self.evaluate(q.a, leaf, within), self.evaluate(q.b, leaf, within)
            extra = a.match & b.match
            a.score[extra] += b.score[extra]
            a.count[extra] += b.count[extra]
            a.terms += b.terms
            return a
        part = _Part(np.zeros(n, dtype=bool), np.zeros(n), np.zeros(n, dtype=np.int16), 0)
        if isinstance(q, wq.Term):
            self._add_term(q, leaf, part, within)
            return part
        if q is wq.NullQuery:
            return part
        both = isinstance(q, wq.And)
        for number, sub in enumerate(q.subqueries):
            if isinstance(sub, wq.Term) and not both:  # (most words: added in place)
                self._add_term(sub, leaf, part, within)
                continue
            found = self.evaluate(sub, leaf, within)
            if both and number:
                part.match &= found.match
            else:
                part.match |= found.match
            part.score += found.score
            part.count += found.count
            part.terms += found.terms
        if both:
            part.only_matches()
        elif q.scale and part.terms > 1:
            # (one term has nothing to coordinate: Whoosh's factor (terms - 1) / terms
            # made every score 0 there, and a word only in the files' text came out
            # in the order of their document numbers)
            _coordinate(part, q.scale)
        if q.boost != 1.0:
            part.score *= q.boost
        return part

    def _add_term(self, q, leaf, part, within=None):
        """Add term ``q``'s matches and scores in ``leaf`` (of the documents of
        ``within``, if given) to ``part``."""
        part.terms += self._frequency(q) > 0
        ids, weights = self.postings.term(leaf, q.fieldname, self._btext(q))
        if within is not None and len(ids):
            kept = within[ids]
            ids, weights = ids[kept], weights[kept]
        if not len(ids):
            return
        field = self.schema[q.fieldname]
        tf = weights.astype(np.float64)
        if field.scorable:
            searcher = self.searcher
            idf = self._idf(q)
            average = searcher.avg_field_length(q.fieldname) or 1
            lengths = LENGTH_OF_BYTE[self.postings.lengths(leaf, q.fieldname)[ids]]
            values = idf * (tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * lengths / average))
        else:
            values = tf
        if q.boost != 1.0:
            values *= q.boost
        part.match[ids] = True
        part.score[ids] += values
        part.count[ids] += 1

    def mask(self, leaf, field, values):
        """The documents of ``leaf`` with any of ``values`` (strings) in ``field``."""
        found = np.zeros(leaf.doc_count_all(), dtype=bool)
        to_bytes = self.schema[field].to_bytes
        for value in values:
            ids, _weights = self.postings.term(leaf, field, to_bytes(value))
            found[ids] = True
        return found


def _coordinate(part, scale):
    """Whoosh's coordination bonus (its CoordMatcher: Apple V-Twin's short query
    ranking) for the documents of an OR of ``part.terms`` terms, by how many of
    them each has (``part.count``)."""
    ids = np.flatnonzero(part.match)
    terms = part.terms
    part.score[ids] = ((part.score[ids] + (part.count[ids] - 1) / (terms - scale) ** 2)
                       * ((terms - 1) / terms))
