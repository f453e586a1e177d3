"""Whoosh searched with arrays (kp_workspace.search.arrays) finds what Whoosh finds.

Random documents in several segments (some replaced, some deleted), random
queries in the language people type, several officers, filters, dates and
sorts: the array search finds exactly the documents a plain evaluation of the
query over the documents themselves finds (the total and the counts by kind
too); newest first when sorted by date; and by relevance, in an order Whoosh's
own scores agree with.  (Whoosh is not the judge of what matches: its ANDNOT
found a document with both words, in a segment with deleted documents.)

(Whoosh's coordination bonus counts the terms its matchers still have as they
run, so the same document can score 0 or not depending on where it lies; the
relevance order is compared with Whoosh's scores without that bonus, and the
bonus is tested on its own.)
"""
import datetime
import random

import hypothesis
import pytest
from hypothesis import strategies as st

from whoosh.qparser import MultifieldParser, OrGroup

from whoosh import query as wq

from kp_workspace.search import arrays, engine as engine_module
from kp_workspace.search.engine import KINDS, WhooshEngine

WORDS = ('budget', 'pension', 'audit', 'para', 'leave', 'road', 'school', 'پنشن', 'منظوری')
PRINCIPALS = ('post:a', 'post:b', 'post:c', 'archive:x')
DEPARTMENTS = ('finance', 'health')
STATES = ('open', 'closed')
DAY = datetime.date(2026, 3, 1)


def _text(rng, n):
    return ' '.join(rng.choice(WORDS) for _ in range(rng.randint(0, n)))


def _document(rng, key):
    return {'key': key, 'item': key.partition('/')[0], 'kind': rng.choice(KINDS),
            'number': f'FD/{rng.randint(1, 30)}', 'title': _text(rng, 3),
            'content': _text(rng, 12), 'department': rng.choice(DEPARTMENTS),
            'state': rng.choice(STATES), 'classification': 'routine',
            'allowed': ' '.join(rng.sample(PRINCIPALS, rng.randint(1, 2))),
            'date': datetime.datetime(2026, 3, 1) + datetime.timedelta(hours=rng.randint(0, 480)),
            'stamp': ''}


class Indexed(WhooshEngine):
    """An engine that remembers the documents it holds (``held``: key -> fields)."""

    def __init__(self, path):
        super().__init__(path)
        self.held = {}
        self.analysed = {}  # (field, value) -> its terms

    def apply(self, documents, remove_items=(), merge=True):
        super().apply(documents, remove_items, merge)
        self.held = {k: d for k, d in self.held.items() if d['item'] not in set(remove_items)}
        self.held.update((d['key'], d) for d in documents)


@pytest.fixture(scope='module')
def engine(tmp_path_factory):
    """An index of 600 documents in several segments, with replaced and removed ones."""
    rng = random.Random(13)
    engine = Indexed(str(tmp_path_factory.mktemp('arrays')))
    for batch in range(6):
        # (items of the batch before replaced, as the indexer does: removed and
        # added again, now in a later segment; and items removed)
        replaced = [f'i{batch - 1}-{n}' for n in range(0, 100, 7)] if batch else []
        removed = [f'i{batch - 1}-{n}' for n in range(3, 100, 11)] if batch else []
        docs = [_document(rng, f'i{batch}-{n}') for n in range(100)]
        docs += [_document(rng, key) for key in replaced]
        engine.apply(docs, remove_items=sorted(set(replaced + removed)), merge=False)
    assert engine.segment_count() > 1
    yield engine
    engine.close()


def _terms(engine, field, value):
    found = engine.analysed.get((field, value))
    if found is None:
        if field in ('title', 'content'):
            found = {token.text for token in engine.schema[field].analyzer(value)}
        else:
            found = set(value.split()) if field == 'allowed' else {value}
        engine.analysed[field, value] = found
    return found


def _matches(engine, q, doc):
    """Whether document ``doc`` (its fields) matches query ``q``: the plain meaning."""
    if isinstance(q, wq.Term):
        return q.text in _terms(engine, q.fieldname, doc.get(q.fieldname, ''))
    if isinstance(q, wq.And):
        return all(_matches(engine, sub, doc) for sub in q.subqueries)
    if isinstance(q, wq.Or):
        return any(_matches(engine, sub, doc) for sub in q.subqueries)
    if isinstance(q, wq.AndNot):
        return _matches(engine, q.a, doc) and not _matches(engine, q.b, doc)
    if isinstance(q, wq.AndMaybe):
        return _matches(engine, q.a, doc)
    assert q is wq.NullQuery, q
    return False


def _expected(engine, text, principals, filters=None, dates=(None, None), hidden_items=(),
              sort=None):
    """The keys of the documents the search must find, looking at each."""
    query = engine.parse(text) if text else None
    first, last = dates
    found = set()
    for key, doc in engine.held.items():
        if not set(principals) & set(doc['allowed'].split()) or doc['item'] in hidden_items:
            continue
        if any(value and doc[name] != value for name, value in (filters or {}).items()):
            continue
        if (first and doc['date'].date() < first) or (last and doc['date'].date() > last):
            continue
        if query is None or _matches(engine, query, doc):
            found.add(key)
    return found


def _same(engine, text, principals, **kwargs):
    """The results of ``text``, checked against what each document says."""
    found = engine.query(text, principals, pagelen=1000, **kwargs)
    keys = [h.key for h in found.hits]
    expected = _expected(engine, text, principals, **kwargs)
    assert set(keys) == expected, text
    assert len(keys) == found.total == len(expected)
    assert found.pages == -(-found.total // 1000)
    kinds = [engine.held[key]['kind'] for key in keys]
    assert found.facets == {kind: kinds.count(kind) for kind in set(kinds)}
    if kwargs.get('sort') == 'date' or not text:
        assert [h.date for h in found.hits] == sorted((h.date for h in found.hits), reverse=True)
    return found


def _whoosh_scores(engine, text):
    """``{key: Whoosh's score}`` of every document ``text`` matches."""
    searcher = engine._searcher()
    return {hit['key']: hit.score
            for hit in searcher.search(engine.parse(text), limit=None)}


@pytest.fixture
def uncoordinated(engine, monkeypatch):
    """The engine's queries parsed without the coordination bonus."""
    def parse(text):
        return MultifieldParser(engine.FIELDS, schema=engine.schema, group=OrGroup).parse(text)
    monkeypatch.setattr(engine, 'parse', parse)
    return engine


words = st.sampled_from(WORDS + ('FD/7', 'title:budget', 'content:para', 'number:FD/3', 'absent'))


def _queries(operators):
    return st.recursive(words, lambda inner: st.tuples(
        inner, st.sampled_from(operators), inner).map(lambda t: f'({t[0]}{t[1]}{t[2]})'),
        max_leaves=5)


queries = _queries((' ', ' AND ', ' OR ', ' ANDNOT ', ' ANDMAYBE '))


@hypothesis.settings(max_examples=150, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(text=queries, who=st.lists(st.sampled_from(PRINCIPALS), min_size=1,
                                             max_size=3, unique=True),
                  sort=st.sampled_from(('relevance', 'date')),
                  kind=st.sampled_from(('',) + KINDS), state=st.sampled_from(('', 'open')),
                  days=st.sampled_from(((None, None), (DAY, None), (None, DAY),
                                        (DAY + datetime.timedelta(days=3),
                                         DAY + datetime.timedelta(days=9)))))
def test_arrays_find_what_the_documents_say(engine, text, who, sort, kind, state, days):
    _same(engine, text, who, sort=sort, filters={'kind': kind, 'state': state}, dates=days)


@hypothesis.settings(max_examples=100, deadline=None, derandomize=True, database=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(text=_queries((' ', ' AND ', ' OR ')),
                  who=st.lists(st.sampled_from(PRINCIPALS), min_size=1, max_size=3, unique=True))
def test_arrays_rank_as_whoosh_scores(uncoordinated, text, who):
    found = _same(uncoordinated, text, who)
    scores = _whoosh_scores(uncoordinated, text)
    ranked = [scores[h.key] for h in found.hits]
    assert all(a >= b - 1e-9 for a, b in zip(ranked, ranked[1:])), text


def test_documents_with_more_of_the_words_rank_higher(tmp_path):
    """The coordination bonus: a document with both words of the query comes
    before one with the rarer word three times (which BM25 alone puts first)."""
    engine = WhooshEngine(str(tmp_path))
    common = {'kind': 'file', 'department': 'finance', 'state': 'open',
              'classification': 'routine', 'allowed': 'post:a', 'stamp': '',
              'date': datetime.datetime(2026, 3, 1)}
    engine.apply([dict(common, key='one', item='one', title='note',
                       content='school school school lake'),
                  dict(common, key='both', item='both', title='note',
                       content='road school lake lake'),
                  dict(common, key='other', item='other', title='note', content='lake')]
                 + [dict(common, key=f'f{n}', item=f'f{n}', title='note', content='road lake')
                    for n in range(8)])
    hits = engine.query('school road', ['post:a'], pagelen=20).hits
    assert hits[0].key == 'both'
    engine.close()


def test_the_words_people_type_are_searched_with_arrays(engine, monkeypatch):
    """Plain words, fields and the operators take the array path (no fallback);
    a phrase, a prefix and a lone NOT are Whoosh's."""
    taken = []
    original = engine_module.WhooshEngine._run

    def whoosh_run(self, *args):
        taken.append(args[0])
        return original(self, *args)
    monkeypatch.setattr(engine_module.WhooshEngine, '_run', whoosh_run)
    for text in ('budget', 'budget pension', 'title:budget OR (audit AND para)',
                 'audit ANDNOT para', 'leave ANDMAYBE road', 'پنشن منظوری', 'FD/7'):
        assert _same(engine, text, ['post:a', 'post:b']).total
    assert not taken
    for text in ('"audit para"', 'bud*', 'NOT budget'):
        engine.query(text, ['post:a'])
    assert len(taken) == 3


def test_pages_browse_and_hidden_items(engine):
    first = _same(engine, 'budget', ['post:a'])
    assert first.total > 20
    page2 = engine.query('budget', ['post:a'], page=2, pagelen=7)
    assert [h.key for h in page2.hits] == [h.key for h in first.hits[7:14]]
    past = engine.query('budget', ['post:a'], page=999, pagelen=7)
    assert (past.hits, past.total, past.pages) == ([], first.total, -(-first.total // 7))
    browse = _same(engine, '', ['post:b'], filters={'department': 'health'})
    assert [h.date for h in browse.hits] == sorted((h.date for h in browse.hits), reverse=True)
    hidden = first.hits[0].item
    without = _same(engine, 'budget', ['post:a'], hidden_items=[hidden])
    assert hidden not in {h.item for h in without.hits}
    assert without.total < first.total
    assert engine.query('budget', ['post:nobody']).total == 0


def test_merging_segments_keeps_the_order(tmp_path):
    """The coordination bonus counts the terms of the index, not of a segment:
    the same documents in one segment or in many are found in the same order."""
    rng = random.Random(5)
    docs = [_document(rng, f'd{n}') for n in range(300)]
    many, one = WhooshEngine(str(tmp_path / 'many')), WhooshEngine(str(tmp_path / 'one'))
    for start in range(0, 300, 30):
        many.apply(docs[start:start + 30], merge=False)
    one.apply(docs)
    for text in ('budget pension', 'audit OR road OR absent', 'para leave school'):
        ordered = [[h.key for h in e.query(text, list(PRINCIPALS), pagelen=300).hits]
                   for e in (many, one)]
        assert ordered[0] == ordered[1]
        assert ordered[0]
    many.close()
    one.close()


def test_a_new_searcher_keeps_the_readers_of_unchanged_segments(tmp_path):
    """After a commit the thread's new searcher keeps the readers (warm: their
    stored fields' offsets read) of segments that did not change, opens the new
    ones, and opens again a segment whose deletions changed: its documents are
    found as they are now."""
    engine = WhooshEngine(str(tmp_path))
    common = {'kind': 'file', 'department': 'finance', 'state': 'open', 'stamp': '',
              'classification': 'routine', 'allowed': 'post:a',
              'date': datetime.datetime(2026, 3, 1)}
    for n in range(3):
        engine.apply([dict(common, key=f's{n}-{i}', item=f's{n}-{i}', title='walrus')
                      for i in range(5)], merge=False)

    def leaves():
        return {leaf.segment().segment_id(): leaf
                for leaf, _ in engine._searcher().reader().leaf_readers()}
    assert engine.query('walrus', ['post:a']).total == 15
    before = leaves()
    engine.apply([dict(common, key='new', item='new', title='walrus')], merge=False)
    assert engine.query('walrus', ['post:a']).total == 16
    after = leaves()
    assert len(after) == 4
    assert all(after[seg] is leaf for seg, leaf in before.items())
    # a deletion in each of the three first segments: their readers are opened
    # again (the old ones closed); the fourth's is kept
    engine.apply([], remove_items=['s0-0', 's1-0', 's2-0'], merge=False)
    found = engine.query('walrus', ['post:a'], pagelen=50)
    assert found.total == 13 and {'s0-0', 's1-0', 's2-0'}.isdisjoint(h.key for h in found.hits)
    again = leaves()
    assert all(again[seg] is not leaf and leaf.is_closed for seg, leaf in before.items())
    (added,) = set(after) - set(before)
    assert again[added] is after[added] and not after[added].is_closed
    engine.close()


def _note(key, content):
    return {'key': key, 'item': key, 'kind': 'file', 'number': f'n{key}', 'title': 'note',
            'content': content, 'department': 'finance', 'state': 'open',
            'classification': 'routine', 'allowed': 'post:a', 'stamp': '',
            'date': datetime.datetime(2026, 3, 1)}


def test_what_andnot_leaves_out_adds_nothing_to_an_or(tmp_path):
    """In ``(a ANDNOT b) OR c`` a document with a, b and c is found for c alone:
    its score for a must not count (it came first, above one with c alone)."""
    engine = WhooshEngine(str(tmp_path))
    engine.apply([_note('abc', 'budget budget budget budget pension road'),
                  _note('c', 'road'), _note('a', 'budget'), _note('none', 'other words')])
    text = '(budget ANDNOT pension) OR road'
    keys = [h.key for h in engine.query(text, ['post:a']).hits]
    scores = _whoosh_scores(engine, text)
    assert sorted(keys) == sorted(scores)
    assert keys == sorted(scores, key=lambda key: -scores[key])
    engine.close()


def test_an_index_of_no_segments(tmp_path):
    """A new index, or one just cleared, has no segments: nothing is found (its
    reader is Whoosh's EmptyReader, of no segment), on either path."""
    engine = WhooshEngine(str(tmp_path))
    for text in ('budget', '"audit para"', ''):
        assert engine.query(text, ['post:a'], filters={'kind': 'file'}).total == 0
    engine.apply([_note('one', 'budget')])
    assert engine.query('budget', ['post:a']).total == 1
    engine.clear()
    assert engine.query('budget', ['post:a']).total == 0
    engine.close()


def test_words_in_no_document_count_against_the_budget(tmp_path):
    """Each word searched is kept per segment even when no document has it (no
    data): such entries must count too, or they are kept for ever."""
    engine = WhooshEngine(str(tmp_path))
    engine.postings = arrays.Postings(budget_mb=1)
    engine.apply([_note('one', 'budget')])
    for n in range(3000):
        engine.query(f'absent{n}', ['post:a'])
    assert engine.postings.used <= engine.postings.budget
    assert len(engine.postings._kept) < 3000
    engine.close()


def test_a_word_in_one_field_only_is_ranked_by_its_score(tmp_path):
    """'pension' only in the text of files (never a title): the documents that say
    it most come first (Whoosh's coordination made every score 0 there, and left
    them in the order they were indexed)."""
    engine = WhooshEngine(str(tmp_path))
    common = {'kind': 'file', 'department': 'finance', 'state': 'open', 'stamp': '',
              'classification': 'routine', 'allowed': 'post:a', 'title': 'case',
              'date': datetime.datetime(2026, 3, 1)}
    engine.apply([dict(common, key=f'd{n}', item=f'd{n}',
                       content=' '.join(['pension'] * n + ['road'] * (6 - n)))
                  for n in range(1, 6)])
    hits = engine.query('pension', ['post:a']).hits
    assert [h.key for h in hits] == ['d5', 'd4', 'd3', 'd2', 'd1']
    engine.close()
