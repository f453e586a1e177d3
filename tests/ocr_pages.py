"""Scanned-style pages made from known text, for the OCR tests and benchmarks/ocr.py.

A page is an A4 sheet at 300 dpi (2480 x 3508 pixels, greyscale, white) with the
lines of a text drawn in black at about 12 pt (50 pixels), one-inch margins,
English left-aligned and Urdu right-aligned and right to left (Pillow's complex
text layout, raqm, shapes the Naskh and Nastaliq joins).  ``scanned_pdf`` wraps
such images into a PDF without a text layer, as a scanner gives it.
``word_accuracy`` says how much of the known text a recognition found.

The pages are clean renders (no noise, skew or blur): figures measured on them are
the best case a real scan can approach.
"""
import collections
import os
import unicodedata

from PIL import Image, ImageDraw, ImageFont

FONTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                     'kp_workspace', 'fonts')
A4_MM = (210, 297)
POINT_SIZE = 12

ENGLISH = [
    'Government of Khyber Pakhtunkhwa, Finance Department',
    'No. FD/2026/114, dated Peshawar, 12th March 2026',
    'To: The Accountant General, Peshawar',
    'Subject: Revision of pension rates',
    'I am directed to refer to your letter of 3rd February 2026 on the',
    'subject noted above and to say that the competent authority has been',
    'pleased to approve an increase of ten percent in the pension of all',
    'civil pensioners with effect from 1st July 2026.',
    'You are requested to arrange payment accordingly and to report',
    'compliance to this department within fifteen days.',
]

URDU = [
    'حکومت خیبر پختونخوا، محکمہ خزانہ',
    'مجھے ہدایت ہوئی ہے کہ آپ کو مطلع کروں کہ مجاز اتھارٹی',
    'نے تمام سرکاری پنشنرز کی پنشن میں یکم جولائی سے',
    'دس فیصد اضافے کی منظوری دے دی ہے۔ گزارش ہے کہ',
    'ادائیگی کے انتظامات کیے جائیں اور پندرہ دن کے اندر',
    'عمل درآمد کی رپورٹ اس دفتر کو ارسال کی جائے۔',
]


def page_size(dpi=300):
    """A4 in pixels at ``dpi``: (2480, 3508) at 300."""
    return tuple(round(mm / 25.4 * dpi) for mm in A4_MM)


def render_png(path, lines, font='NotoSans-Regular.ttf', size=None, rtl=False, dpi=300):
    """Draw ``lines`` on a white A4 page and save it as a greyscale PNG at ``path``.

    :param font: a file name in kp_workspace/fonts, or a path.
    :param size: the font's size in pixels; by default 12 pt at ``dpi`` (50 at 300).
    :param rtl: right to left and right-aligned (Urdu), else left to right and
        left-aligned.
    :raises ValueError: if a line is wider than the space between the margins.
    :returns: ``path``.
    """
    size = size or round(POINT_SIZE * dpi / 72)
    width, height = page_size(dpi)
    margin = dpi                                     # one inch
    face = ImageFont.truetype(os.path.join(FONTS, font), size,
                              layout_engine=ImageFont.Layout.RAQM)
    ascent, descent = face.getmetrics()
    # Nastaliq's tall ascenders and deep descenders need more than the usual 1.5 lines
    step = max(round(size * 1.5), round((ascent + descent) * 1.05))
    direction, language = ('rtl', 'ur') if rtl else ('ltr', 'en')
    image = Image.new('L', (width, height), 255)
    draw = ImageDraw.Draw(image)
    y = margin + ascent
    for line in lines:
        wide = draw.textlength(line, font=face, direction=direction, language=language)
        if wide > width - 2 * margin:
            raise ValueError(f'line too wide for the page ({wide:.0f} px): {line!r}')
        if y + descent > height - margin:
            raise ValueError('too many lines for one page')
        x, anchor = (width - margin, 'rs') if rtl else (margin, 'ls')
        draw.text((x, y), line, fill=0, font=face, anchor=anchor, direction=direction,
                  language=language)
        y += step
    image.save(path, dpi=(dpi, dpi))
    return path


def scanned_pdf(path, png_paths, dpi=300):
    """A PDF at ``path`` of the page images, one a page, with no text layer."""
    images = [Image.open(p).convert('L') for p in png_paths]
    try:
        images[0].save(path, 'PDF', resolution=dpi, save_all=True,
                       append_images=images[1:])
    finally:
        for image in images:
            image.close()
    return path


# Letters an Arabic keyboard (or an OCR engine) gives for the Urdu ones: folded to the
# Urdu letter.  Heh (U+0647) and the two teh marbutas are left as they are.
URDU_FOLD = str.maketrans({'\u064A': '\u06CC',      # Arabic yeh -> Farsi yeh
                           '\u0649': '\u06CC',      # alef maksura -> Farsi yeh
                           '\u0643': '\u06A9',      # Arabic kaf -> keheh
                           '\u0640': None})         # tatweel (kashida)


def words(text):
    """The words of ``text``, normalised for comparison.

    NFKC (Arabic presentation forms to letters), lower case, the Urdu folds above,
    combining marks (zer, zabar, pesh...) and format characters (zero-width
    non-joiner, bidi marks) dropped, then every punctuation or symbol character
    (``. , : ( ) /``, the Urdu full stop ۔ and comma ،) becomes a space and the
    text is split on spaces.  ``No. FD/2026/114`` gives four words: no, fd, 2026, 114.
    """
    text = unicodedata.normalize('NFKC', text).lower().translate(URDU_FOLD)
    kept = []
    for char in text:
        kind = unicodedata.category(char)
        if kind in ('Mn', 'Cf'):
            continue
        kept.append(' ' if kind[0] in 'PSZ' else char)
    return unicodedata.normalize('NFC', ''.join(kept)).split()


def word_accuracy(expected_lines, recognised_text):
    """The share (0..1) of the expected words found in the recognised text.

    A multiset match: a word expected three times counts three times, and is found
    as often as the recognised text has it (at most three).  Order and line breaks
    are ignored, extra recognised words cost nothing.
    """
    expected = collections.Counter(words('\n'.join(expected_lines)))
    if not expected:
        raise ValueError('no expected words')
    found = expected & collections.Counter(words(recognised_text))
    return sum(found.values()) / sum(expected.values())
