"""The helpers that make known pages for the OCR tests and benchmark (no Tesseract here)."""
import pytest
from PIL import Image
from pypdf import PdfReader

from tests import ocr_pages
from tests.ocr_pages import ENGLISH, URDU, render_png, scanned_pdf, word_accuracy


@pytest.fixture(scope='module')
def pages(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('ocr-pages')
    return [render_png(str(tmp / 'en.png'), ENGLISH),
            render_png(str(tmp / 'ur.png'), URDU, font='NotoNaskhArabic-Regular.ttf',
                       rtl=True),
            render_png(str(tmp / 'nq.png'), URDU, font='NotoNastaliqUrdu-Regular.ttf',
                       rtl=True)]


def test_a_render_is_a4_at_300_dpi_greyscale_with_ink(pages):
    for path in pages:
        with Image.open(path) as image:
            assert image.size == (2480, 3508)
            assert image.mode == 'L'
            assert round(image.info['dpi'][0]) == 300
            assert image.getextrema() == (0, 255)


def test_urdu_is_right_aligned_and_english_left_aligned(pages):
    def ink(path):
        with Image.open(path) as image:
            return image.point(lambda v: 255 if v < 128 else 0).getbbox()
    english, urdu = ink(pages[0]), ink(pages[1])
    assert english[0] >= 300 and 2480 - english[2] > 400     # ragged right
    assert 2480 - urdu[2] >= 300 and urdu[0] > 400            # ragged left


def test_a_line_too_wide_is_refused(tmp_path):
    with pytest.raises(ValueError, match='too wide'):
        render_png(str(tmp_path / 'wide.png'), [' '.join(ENGLISH)])


def test_the_scanned_pdf_has_no_text_layer(pages, tmp_path):
    path = scanned_pdf(str(tmp_path / 'scan.pdf'), pages)
    reader = PdfReader(path)
    assert len(reader.pages) == 3
    assert [page.extract_text() for page in reader.pages] == ['', '', '']
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)   # A4


@pytest.mark.parametrize('lines', [ENGLISH, URDU])
def test_word_accuracy_of_the_exact_text_and_of_none(lines):
    assert word_accuracy(lines, '\n'.join(lines)) == 1.0
    assert word_accuracy(lines, '') == 0.0


def test_word_accuracy_counts_each_occurrence_once():
    assert word_accuracy(['the cat and the hat'], 'the cat hat') == 0.6
    assert word_accuracy(['the cat'], 'the the the cat cat') == 1.0
    assert word_accuracy(['the cat'], 'a dog') == 0.0


def test_word_accuracy_ignores_case_punctuation_and_order():
    assert word_accuracy(['No. FD/2026/114, dated'], 'dated no fd 2026 114') == 1.0
    assert word_accuracy(['Revision of pension rates.'], 'REVISION: of Pension rates') == 1.0


def test_urdu_words_are_folded():
    # Arabic yeh and kaf for the Urdu ones, diacritics, tatweel, zero-width non-joiner,
    # the Urdu full stop and comma
    assert ocr_pages.words('منظوري ك، درآمدَ دفـتر ہے۔') == [
        'منظوری', 'ک', 'درآمد', 'دفتر', 'ہے']
    assert ocr_pages.words('عمل\u200cدرآمد') == ['عملدرآمد']
    assert word_accuracy(['کی منظوری دے دی ہے۔'], 'كي منظوري دے دي ہے') == 1.0
    # heh goal and teh marbuta goal stay distinct from Arabic heh
    assert word_accuracy(['خزانہ'], 'خزانه') == 0.0
