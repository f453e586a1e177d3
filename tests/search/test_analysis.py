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
