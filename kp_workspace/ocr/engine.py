"""Recognising the text of scanned pages with Tesseract (English and Urdu).

Tesseract and poppler's ``pdftoppm`` run as programs (Debian's ``tesseract-ocr``,
``tesseract-ocr-eng``, ``tesseract-ocr-urd``, ``poppler-utils``; the Makefile installs
them), one page at a time, each under a time limit, in a temporary directory of
their own.  A page gives its text and a one-page PDF: the page's image with the
recognised text laid invisibly over it, so that a reader can search and select it.
The pages' PDFs together make the searchable copy kept beside the original, which
is never altered.
"""
import glob
import io
import os
import re
import shutil
import subprocess
import tempfile

from PIL import Image
from pypdf import PdfReader, PdfWriter

LANGS = 'eng+urd'
DPI = 300
MIN_DPI = 100
# the most pixels a page is read at: an A3 sheet at 300 dpi is 17.4 million; more is
# an image (or a PDF page) made to exhaust the memory of the reader, and is refused
MAX_PIXELS = 40_000_000
MAX_FRAMES = 50   # pages of a TIFF
MAX_PDF_PAGES = 300   # pages of a scanned PDF read (a longer one fails, and says so)
PAGE_SECONDS = 180      # a reading that takes longer is given up (the scan fails, and says so)
RASTER_SECONDS = 120


class RecognitionFailed(Exception):
    """The scan could not be read (a corrupt image, a page Tesseract gave up on).

    ``reason`` says why in a word the pages translate (:data:`REASONS`); the message
    says it in full, in English, for the API and the log.
    """

    def __init__(self, message, reason='failed'):
        super().__init__(message)
        self.reason = reason


REASONS = ('damaged', 'too_large', 'too_many_pages', 'too_slow', 'failed')


def available():
    """Whether the programs are installed."""
    return all(shutil.which(p) for p in ('tesseract', 'pdftoppm'))


# Reading scans must not slow the pages officers wait on: Tesseract runs on one thread,
# at the lowest priority (the serving threads come first whenever they want the CPU).
# A program is killed with the thread that started it (``--pdeathsig``): a server
# killed outright leaves no reader running on behind it.  (``nice`` and ``setpriv``,
# coreutils' and util-linux's, not a preexec_fn: that is unsafe in a threaded server)
LOWEST = ('setpriv', '--pdeathsig', 'KILL', 'nice', '-n', '19')
ENVIRONMENT = {'OMP_THREAD_LIMIT': '1'}


def _run(args, seconds, what):
    try:
        done = subprocess.run([*LOWEST, *args], capture_output=True, timeout=seconds,
                              check=False, env={**os.environ, **ENVIRONMENT})
    except subprocess.TimeoutExpired:
        raise RecognitionFailed(f'{what} took longer than {seconds} seconds',
                                'too_slow') from None
    except OSError as err:
        raise RecognitionFailed(f'{what} could not run: {err.strerror}') from None
    if done.returncode != 0:
        reason = done.stderr.decode('utf-8', 'replace').strip().splitlines()
        reason = re.sub(r'/\S*', '...', reason[-1])[:200] if reason else done.returncode
        raise RecognitionFailed(f'{what} failed: {reason}')   # (no paths of this machine)
    return done


def work_prefix():
    """The start of the names of this process's temporary folders (see :func:`sweep`)."""
    return f'kpw-ocr-{os.getpid()}-'


def sweep(folder=None):
    """Remove the temporary folders left by readers whose process has ended (killed
    before it could)."""
    folder = folder or tempfile.gettempdir()
    for path in glob.glob(os.path.join(folder, 'kpw-ocr-*-*')):
        pid = os.path.basename(path).split('-')[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:   # (its process is gone: nobody uses it)
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:   # (another user's process of that number: alive)
            pass


def urdu_share(text):
    """The share of the letters of ``text`` that are in the Arabic script (Urdu)."""
    letters = [c for c in text if c.isalpha()]
    return sum(1 for c in letters if '\u0600' <= c <= '\u06ff') / len(letters) \
        if letters else 0.0


def recognise_page(path, dpi=DPI, seconds=PAGE_SECONDS):
    """``(text, pdf bytes)`` of one page in English, Urdu or both: read with both
    languages, then, when most of what was read is Urdu, again with Urdu alone (which
    reads Urdu better: ``benchmarks/ocr.py``).  :raises RecognitionFailed:"""
    text, pdf = recognise_image(path, LANGS, dpi, seconds)
    if urdu_share(text) > 0.5:
        text, pdf = recognise_image(path, 'urd', dpi, seconds)
    return text, pdf


def recognise_image(path, langs=LANGS, dpi=DPI, seconds=PAGE_SECONDS):
    """``(text, pdf bytes)`` of one page image (PNG, JPEG, TIFF: a TIFF of several pages
    gives them all) read in ``langs``.  :raises RecognitionFailed:"""
    with tempfile.TemporaryDirectory(prefix=work_prefix()) as work:
        out = os.path.join(work, 'page')
        _run(['tesseract', path, out, '-l', langs, '--dpi', str(dpi), 'txt', 'pdf'],
             seconds, 'Text recognition')
        try:
            with open(out + '.txt', encoding='utf-8', errors='replace') as f:
                text = f.read()
            with open(out + '.pdf', 'rb') as f:
                pdf = f.read()
        except OSError:
            raise RecognitionFailed('Text recognition gave no result') from None
    return text.replace('\f', '\n').strip(), pdf


def pdf_page_image(pdf_path, page, out_dir, dpi=DPI, seconds=RASTER_SECONDS):
    """The path of page ``page`` (from 1) of a PDF drawn as a greyscale PNG at ``dpi``.
    :raises RecognitionFailed:"""
    prefix = os.path.join(out_dir, f'p{page}')
    _run(['pdftoppm', '-r', str(dpi), '-gray', '-png', '-f', str(page), '-l', str(page),
          '-singlefile', pdf_path, prefix], seconds, 'Drawing the page')
    found = glob.glob(prefix + '.png')
    if not found:
        raise RecognitionFailed('Drawing the page gave no image')
    return found[0]


def check_image(path):
    """:raises RecognitionFailed: ``path`` is not an image Pillow can open, or has more
    than :data:`MAX_PIXELS` (read from its header: the pixels are not decoded)."""
    try:
        with Image.open(path) as image:
            frames = getattr(image, 'n_frames', 1)
            if frames > MAX_FRAMES:
                raise RecognitionFailed(f'The image has {frames} pages; at most {MAX_FRAMES} '
                                        f'are read', 'too_many_pages')
            sizes = []
            for frame in range(frames):   # (each page's header: no pixel is decoded)
                image.seek(frame)
                sizes.append(image.size)
    except Image.DecompressionBombError:   # (Pillow's own limit, far above ours)
        raise RecognitionFailed(f'The image is too large to read (more than '
                                f'{MAX_PIXELS:,} pixels)', 'too_large') from None
    except (OSError, ValueError):
        raise RecognitionFailed('The image cannot be opened: it is damaged, or not an '
                                'image', 'damaged') from None
    width, height = max(sizes, key=lambda size: size[0] * size[1])
    if width * height > MAX_PIXELS:
        raise RecognitionFailed(f'The image is too large to read ({width} x {height} pixels, '
                                f'at most {MAX_PIXELS:,} in all)', 'too_large')


def page_dpi(box, page):
    """The resolution page ``page`` (from 1), of media box ``box``, is drawn at:
    :data:`DPI`, or less for a page so large that it would pass :data:`MAX_PIXELS`.
    :raises RecognitionFailed: a page too large to read even at :data:`MIN_DPI`."""
    inches = (abs(float(box.width)) / 72) * (abs(float(box.height)) / 72)
    dpi = DPI
    while inches * dpi * dpi > MAX_PIXELS and dpi > MIN_DPI:
        dpi -= 50
    if inches * dpi * dpi > MAX_PIXELS:
        raise RecognitionFailed(f'Page {page} is too large to read '
                                f'({float(box.width) / 72:.0f} x {float(box.height) / 72:.0f} '
                                f'inches)', 'too_large')
    return dpi


def _pdf_images(path, work):
    """``(pages, iterator of (page number, image path, dpi))``: each page drawn when its
    turn comes, at a resolution its size allows (every page's checked first).
    :raises RecognitionFailed: too many pages, or one too large."""
    boxes = [page.mediabox for page in PdfReader(path).pages]
    if len(boxes) > MAX_PDF_PAGES:
        raise RecognitionFailed(f'The scan has {len(boxes)} pages; at most {MAX_PDF_PAGES} '
                                f'are read', 'too_many_pages')
    resolutions = [page_dpi(box, n) for n, box in enumerate(boxes, 1)]

    def drawn():
        for n, dpi in enumerate(resolutions, 1):
            yield n, pdf_page_image(path, n, work, dpi), dpi
    return len(boxes), drawn()


def recognise(path, content_type, on_page=None):
    """Recognise every page of a scan: ``(text, searchable PDF bytes)``.

    :param on_page: called with ``(done, total)`` after each page (progress).
    :raises RecognitionFailed:
    """
    texts, writer = [], PdfWriter()
    with tempfile.TemporaryDirectory(prefix=work_prefix()) as work:
        if content_type == 'application/pdf':
            total, images = _pdf_images(path, work)
        else:
            check_image(path)
            total, images = 1, [(1, path, DPI)]
        for n, image, dpi in images:
            text, pdf = recognise_page(image, dpi)
            if image != path:
                os.remove(image)   # (a drawn page: the next is drawn when its turn comes)
            texts.append(text)
            for page in PdfReader(io.BytesIO(pdf)).pages:
                writer.add_page(page)
            if on_page is not None:
                on_page(n, total)
    out = io.BytesIO()
    writer.write(out)
    return '\n\n'.join(t for t in texts if t), out.getvalue()
