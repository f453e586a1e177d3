"""The analyzer: English stems, Urdu words with diacritics and keyboard variants."""
import pytest

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
    return [(t.text, t.pos, t.stopped) for t in analyzer(text, positions=True, **kw)]


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
        for kw in ({}, {'removestops': False}, {'mode': 'query'}):
            assert _tokens(fast, text, **kw) == _tokens(general, text, **kw), (text, kw)
    assert words('procuring vehicle') == ['procur', 'vehicl']
