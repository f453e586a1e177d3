"""The analyzer: English stems, Urdu words with diacritics and keyboard variants."""
import datetime

import hypothesis
import pytest
from hypothesis import strategies as st

from kp_workspace.search.analysis import fold_text, workspace_analyzer


def words(text):
    return [t.text for t in workspace_analyzer()(text)]


def test_english_is_stemmed_and_stop_words_dropped():
    assert words('The procurements of Vehicles') == ['procur', 'vehicl']
    assert words('procuring vehicle') == ['procur', 'vehicl']


@pytest.mark.parametrize('variant, plain', [
    ('مُحَکَّمہ', 'محکمہ'),            # diacritics (pesh, zabar, shadd) do not split or change it
    ('محكمه', 'محکمہ'),                # Arabic kaf and heh, as Arabic keyboards type them
    ('پاكستاني', 'پاکستانی'),          # Arabic yeh
    ('تعلیمـــی', 'تعلیمی'),           # tatweel
])
def test_urdu_variants_fold_to_the_same_word(variant, plain):
    assert words(variant) == words(plain) == [fold_text(plain)]


def test_presentation_forms_from_pdfs_are_normalised():
    # ﻣﺤﮑﻤﮧ: the isolated/initial/medial forms pypdf returns for Urdu text
    presentation = '\ufee3\ufea4\ufb8f\ufee4\ufba7'
    assert words(presentation) == words('محکمہ')


def test_urdu_sentence_keeps_each_word():
    assert words('محکمہ خزانہ کی فائل نمبر ۱۲') == ['محکمہ', 'خزانہ', 'کی', 'فائل', 'نمبر', '۱۲']


def test_file_numbers_split_into_parts():
    assert words('FD/2026/0001') == ['fd', '2026', '0001']


SAMPLES = ['The procurements of Vehicles, FD/2026/0001 and A03970', 'running runs ran RUNNER',
           'مُحَکَّمہ محكمه پاكستاني تعلیمـــی ۱۲', '\ufee3\ufea4\ufb8f\ufee4\ufba7',
           'İstanbul ǅemal Ｆｕｌｌ ﬁnance naïve café', 'the a of x y 7 ab was has does this us'] + [
    ' '.join(chr(c) for c in range(start, start + 200)) for start in (32, 160, 0x600, 0xfb50)]


def _tokens(analyzer, text, **kw):
    kw.setdefault('positions', True)
    return [(t.text, t.pos, t.stopped, t.boost) + ((t.startchar, t.endchar) if kw.get('chars')
                                                   else ())
            for t in analyzer(text, **kw)]


def test_the_fast_paths_give_what_the_general_ones_give():
    """ASCII words skip the Unicode folding, and stemming skips whoosh's generator per
    token and its cache: every token, position and stop mark stays what it was."""
    from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
    from kp_workspace.search.analysis import WORD, LatinOnly, UrduFold, _fold_word

    class PlainStem(StemFilter):  # (not whoosh's own class: the general path)
        pass
    general = (RegexTokenizer(WORD) | UrduFold() | LowercaseFilter() | StopFilter(minsize=1)
               | LatinOnly(PlainStem()))
    fast = workspace_analyzer()
    for text in SAMPLES:
        for word in text.split():
            assert fold_text(word) == _fold_word(word), word
        for kw in KWARGS:
            assert _tokens(fast, text, **kw) == _tokens(general, text, **kw), (text, kw)
    assert words('procuring vehicle') == ['procur', 'vehicl']


# How whoosh calls the analyzer to index a field, to highlight, to parse a query
KWARGS = ({}, {'removestops': False}, {'mode': 'query'}, {'tokenize': False},
          {'positions': True, 'boosts': True, 'mode': 'index'},
          {'positions': True, 'chars': True, 'boosts': True, 'mode': 'index'},
          {'chars': True, 'mode': 'index', 'start_pos': 3, 'start_char': 10},
          {'positions': True, 'chars': True, 'no_morph': True},
          {'chars': True, 'mode': 'index', 'removestops': False},  # (highlighting)
          {'positions': True, 'chars': True, 'removestops': False, 'start_pos': 2})


@hypothesis.settings(max_examples=300, deadline=None, derandomize=True, database=None)
@hypothesis.given(st.lists(st.one_of(st.sampled_from(
    ['the', 'of', 'Files', 'filing', 'a', 'x', 'ﻧﻮﭦ', 'مُحَکَّمہ', 'محكمه', 'ـــ', 'İ', 'ﬁ', 'K', '۱۲',
     'FD/2026', ' ', '\n', ', ', '\u064b', '\u0640']), st.text(max_size=6)), max_size=30))
def test_the_one_loop_gives_the_tokens_of_the_chain_of_filters(parts):
    """Indexing runs the analyzer's chain as one loop: every token, position, stop
    mark and character offset is what the filters one by one give."""
    from whoosh.analysis import CompositeAnalyzer
    fast = workspace_analyzer()
    general = CompositeAnalyzer(*fast.items)
    text = ''.join(parts)
    # (the one loop is taken: else this would compare the filters with themselves)
    assert fast(text, positions=True, mode='index').__name__ == '_tokens'
    for kw in KWARGS:
        assert _tokens(fast, text, **dict(kw)) == _tokens(general, text, **dict(kw)), kw



@hypothesis.settings(max_examples=200, deadline=None, derandomize=True, database=None)
@hypothesis.given(st.lists(st.one_of(st.sampled_from(
    ['the', 'Files', 'filing', 'file', 'x', 'ﻧﻮﭦ', 'محكمه', 'İ', 'FD/2026', ' ', ', ']),
    st.text(max_size=6)), max_size=40))
def test_indexing_gathers_the_postings_whoosh_would(parts):
    """The title and content fields gather each word's positions in one pass: the
    same words, frequencies, weights and position bytes as whoosh's own format."""
    from whoosh.fields import TEXT
    from kp_workspace.search.engine import make_schema
    text = ''.join(parts)
    for name in ('title', 'content'):
        ours = make_schema()[name]
        plain = TEXT(analyzer=ours.analyzer, field_boost=ours.format.field_boost)
        assert type(ours.format) is not type(plain.format)
        assert ours.analyzer.positions(text) is not None  # (gathered in one pass)
        assert list(ours.index(text)) == list(plain.index(text))
        assert list(ours.index(['a', 'list'])) == list(plain.index(['a', 'list']))


def test_an_index_made_by_an_older_release_is_read_and_written_with_the_codes_analyzer(
        tmp_path):
    """Same fields, whoosh's own classes (as an older release made them): the engine
    indexes with the code's one-pass analyzer, formats and date field, and what it
    writes in the index's table of contents is still whoosh's classes, which any
    release can read; what was indexed before is still found."""
    from whoosh.analysis import CompositeAnalyzer
    from whoosh.fields import DATETIME, TEXT
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC
    from kp_workspace.search.engine import WhooshEngine, WordPositions, make_schema
    old = make_schema()
    for name in ('title', 'content'):
        field = old[name]
        old._fields[name] = TEXT(analyzer=CompositeAnalyzer(*field.analyzer.items),
                                 stored=field.stored, field_boost=field.format.field_boost)
    old._fields['date'] = DATETIME(stored=True, sortable=True)
    path = str(tmp_path / 'ix')
    ix = FileStorage(path).create().create_index(old)
    with ix.writer() as writer:
        writer.add_document(key='a', item='a', kind='file', title='Vehicles', content='procured',
                            allowed='post:x', date=datetime.datetime(2026, 1, 5))
    engine = WhooshEngine(path)
    assert engine.schema_current  # (else the indexer would wait for kpw reindex)
    assert type(engine.ix.schema['content'].format) is WordPositions
    assert type(engine.ix.schema['date']).__name__ == '_Date'
    engine.apply([{'key': 'b', 'item': 'b', 'kind': 'file', 'title': 'Vehicle',
                   'content': 'procurement', 'allowed': 'post:x',
                   'date': datetime.datetime(2026, 1, 6)}])
    stored = TOC.read(engine.storage, engine.ix.indexname).schema
    assert [type(stored[name]) for name in ('title', 'content', 'date')] == [TEXT, TEXT, DATETIME]
    assert type(stored['content'].format).__name__ == 'Positions'
    assert type(stored['title'].analyzer) is CompositeAnalyzer
    assert {h.key for h in engine.query('vehicle procure', ['post:x']).hits} == {'a', 'b'}
    assert [h.key for h in engine.query('vehicle', ['post:x'], dates=(
        datetime.date(2026, 1, 6), None)).hits] == ['b']
    engine.close()
    assert WhooshEngine(path).schema_current  # (and the next process too)


@hypothesis.settings(max_examples=100, deadline=None, derandomize=True, database=None)
@hypothesis.given(st.datetimes(), st.lists(st.integers(0, 5000), min_size=1, max_size=3))
def test_dates_and_positions_are_encoded_as_whoosh_encodes_them(at, positions):
    """The date's eight precision terms made from one conversion, and the postings of
    a word found once taken from a table: the same bytes as whoosh's."""
    from whoosh.fields import DATETIME
    from whoosh.formats import Positions
    from kp_workspace.search.engine import make_schema
    schema = make_schema()
    assert list(schema['date'].index(at)) == list(DATETIME().index(at))
    assert schema['date'].to_column_value(at) == DATETIME().to_column_value(at)
    positions = sorted(set(positions))
    assert schema['content'].format.encode(positions) == Positions().encode(positions)
