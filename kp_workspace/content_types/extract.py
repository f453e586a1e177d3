"""Reading uploaded documents with bounded memory, work and time.

An upload is judged by its bytes (:func:`sniff`), a PDF must be readable
(:func:`check_pdf`), and the text of PDFs and office documents is extracted for
search (:func:`extract_text`).  All three read hostile files: nothing is ever
inflated whole into memory, every read is capped, and the work stops at a budget.

What is refused (:class:`DocumentRefused`, 400) and what is kept:

- An office document (zip) with more than ``MAX_MEMBERS`` parts, a central
  directory over ``MAX_DIRECTORY`` bytes, parts that together declare more than
  ``MAX_INFLATED`` bytes, or a text part (the one searched) that inflates more
  than ``MAX_RATIO`` times and over ``RATIO_FLOOR`` bytes: a decompression bomb.
- A PDF that declares more than ``PDF_MAX_PAGES`` pages (judged from its page
  tree's ``/Count`` before any page is parsed; a tree that lies is stopped by
  pypdf at the same number), that pypdf cannot read within ``PDF_LIMITS`` (an
  xref or object stream that inflates too far), that is broken, or encrypted.
- Kept, with its text truncated: a text part or PDF whose text goes past
  ``TEXT_LIMIT`` characters, ``TEXT_BYTES`` bytes of XML, ``TEXT_PAGES`` pages
  or ``TEXT_SECONDS`` of work.  A page whose content stream would inflate past
  pypdf's limit gives no text.  Parts that are not searched (images, embedded
  objects, nested zips) are never inflated at all.
- Kept without text: a document whose text cannot be read (a corrupt part).
- Images are never decoded (only their first bytes are looked at), so their
  declared dimensions do not matter.
"""
import codecs
import html
import re
import struct
import time
import zipfile

import pypdf
from pypdf.errors import PyPdfError
from pyramid.i18n import TranslationStringFactory

from ..errors import DomainError

_ = TranslationStringFactory('kp_workspace')

MAX_MEMBERS = 10_000           # parts of an office document
MAX_DIRECTORY = 2 << 20        # bytes of its central directory (10,000 names fit in 1 MB)
MAX_INFLATED = 1 << 30         # bytes all its parts declare together
MAX_RATIO = 100                # inflated / compressed, for a searched part ...
RATIO_FLOOR = 16 << 20         # ... that inflates to more than this

PDF_MAX_PAGES = 10_000
PDF_LIMITS = dict(  # pypdf's own limits, tightened (its defaults allow 75 MB per stream)
    maximum_declared_stream_length=64 << 20,
    zlib_maximum_output_length=8 << 20,
    lzw_maximum_output_length=8 << 20,
    run_length_maximum_output_length=8 << 20,
    array_based_stream_maximum_output_length=8 << 20,
    brotli_maximum_output_length=8 << 20,
    image_maximum_buffer_size=8 << 20,
    stream_decoding_work_maximum_length=32 << 20,
    stream_parsing_work_maximum_count=500_000,
    page_tree_maximum_entries=PDF_MAX_PAGES,
    page_tree_maximum_page_entries=4 * PDF_MAX_PAGES,
    xform_maximum_invocations_per_extraction=500,
)

TEXT_LIMIT = 200_000           # characters of text kept for search
TEXT_BYTES = 8 << 20           # bytes of XML read from an office document
TEXT_PAGES = 200               # pages of a PDF read
TEXT_SECONDS = 10.0            # work spent on one document's text
CHUNK = 64 * 1024

OFFICE_ZIP = {
    'word/': ('application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'docx'),
    'xl/': ('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'xlsx'),
    'ppt/': ('application/vnd.openxmlformats-officedocument.presentationml.presentation', 'pptx'),
}
ODF = {
    b'application/vnd.oasis.opendocument.text': 'odt',
    b'application/vnd.oasis.opendocument.spreadsheet': 'ods',
    b'application/vnd.oasis.opendocument.presentation': 'odp',
}
_SLIDE = re.compile(r'ppt/slides/slide(\d+)\.xml$')
_TAG = re.compile(r'<[^>]*>')


class DocumentRefused(DomainError):
    pass


def _refused(message):
    return DocumentRefused(message, field='file')


def too_many_parts():
    return _refused(_('This document has more than ${n} parts, so it cannot be read safely. '
                      'Save it again from its program, or attach it as a PDF.',
                      mapping={'n': MAX_MEMBERS}))


def text_members(content_type, names):
    """The parts of an office document that hold its searchable text, in reading order."""
    if content_type.startswith('application/vnd.oasis.opendocument.'):
        return [n for n in ('content.xml',) if n in names]
    kind = OFFICE_ZIP_KINDS.get(content_type)
    if kind == 'docx':
        return [n for n in ('word/document.xml',) if n in names]
    if kind == 'xlsx':
        return [n for n in ('xl/sharedStrings.xml',) if n in names]
    if kind == 'pptx':
        slides = [(int(m.group(1)), n) for n in names if (m := _SLIDE.match(n))]
        return [n for _i, n in sorted(slides)]
    return []


OFFICE_ZIP_KINDS = {ct: ext for ct, ext in OFFICE_ZIP.values()}


def _zip_directory(f):
    """``(entries, directory size)`` from a zip's end record, read without zipfile
    (which builds an object per entry before anyone can count them)."""
    f.seek(0, 2)
    size = f.tell()
    tail_len = min(size, 22 + 0xFFFF)
    f.seek(size - tail_len)
    tail = f.read(tail_len)
    at = tail.rfind(b'PK\x05\x06')
    if at < 0 or len(tail) - at < 22:
        raise zipfile.BadZipFile('no end of central directory')
    entries, directory = struct.unpack('<HI', tail[at + 10:at + 16])
    if entries == 0xFFFF or directory == 0xFFFFFFFF:
        loc = tail[at - 20:at] if at >= 20 else b''
        if not loc.startswith(b'PK\x06\x07'):
            raise zipfile.BadZipFile('zip64 without its locator')
        (offset,) = struct.unpack('<Q', loc[8:16])
        if offset > size - 56:
            raise zipfile.BadZipFile('zip64 record out of the file')
        f.seek(offset)
        record = f.read(56)
        if not record.startswith(b'PK\x06\x06'):
            raise zipfile.BadZipFile('no zip64 end record')
        entries, directory = struct.unpack('<QQ', record[32:48])
    return entries, directory


def check_zip(path):
    """Refuse an office document whose structure is a decompression bomb.

    :raises DocumentRefused: too many parts, too large a directory, too much inflation.
    :raises zipfile.BadZipFile: not a zip at all.
    """
    with open(path, 'rb') as f:
        entries, directory = _zip_directory(f)
    if entries > MAX_MEMBERS or directory > MAX_DIRECTORY:
        raise too_many_parts()
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        if len(infos) > MAX_MEMBERS:
            raise too_many_parts()
        if sum(i.file_size for i in infos) > MAX_INFLATED:
            raise _refused(_('This document would inflate to more than ${mb} MB, so it cannot '
                             'be read safely. Save it again from its program, or attach it as '
                             'a PDF.', mapping={'mb': MAX_INFLATED >> 20}))
        return z.namelist()


def check_ratio(path, members):
    """Refuse a searched part that inflates like a bomb (declared sizes; the reading
    itself is capped too, so a part that lies about its size gains nothing)."""
    with zipfile.ZipFile(path) as z:
        for name in members:
            info = z.getinfo(name)
            if info.file_size > RATIO_FLOOR and \
                    info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _refused(_(
                    'A part of this document would inflate ${ratio} times, as a '
                    'decompression bomb does, so it cannot be read safely. Save it again from '
                    'its program, or attach it as a PDF.',
                    mapping={'ratio': info.file_size // max(info.compress_size, 1)}))


def _read_small(z, name, limit=256):
    with z.open(name) as member:
        return member.read(limit)


def sniff(path):
    """``(content type, extension)`` of the file at ``path`` judged by its bytes, or None.

    :raises DocumentRefused: an office document built as a decompression bomb.
    """
    with open(path, 'rb') as f:
        head = f.read(16)
    if head.startswith(b'%PDF-'):
        return 'application/pdf', 'pdf'
    if head.startswith(b'\x89PNG\r\n\x1a\n'):
        return 'image/png', 'png'
    if head.startswith(b'\xff\xd8\xff'):
        return 'image/jpeg', 'jpg'
    if head[:6] in (b'GIF87a', b'GIF89a'):
        return 'image/gif', 'gif'
    if head[:4] in (b'II*\x00', b'MM\x00*'):
        return 'image/tiff', 'tif'
    if head.startswith(b'\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1'):
        return 'application/x-ole-storage', 'doc'  # legacy Word/Excel
    if head.startswith(b'PK\x03\x04'):
        try:
            names = check_zip(path)
            found = None
            with zipfile.ZipFile(path) as z:
                if 'mimetype' in names:
                    declared = _read_small(z, 'mimetype').strip()
                    if declared in ODF:
                        found = declared.decode(), ODF[declared]
                if found is None and '[Content_Types].xml' in names:
                    for prefix, kind in OFFICE_ZIP.items():
                        if any(n.startswith(prefix) for n in names):
                            found = kind
                            break
            if found is not None:
                check_ratio(path, text_members(found[0], names))
            return found
        except DocumentRefused:
            raise
        except Exception:  # encrypted, corrupt, unknown method...: not a document we accept
            return None
    return None


def check_pdf(path):
    """Page count of a readable PDF.  :raises DocumentRefused: a broken, fake, encrypted
    or overlarge PDF."""
    with open(path, 'rb') as f, pypdf.apply_configuration(**PDF_LIMITS):
        # a file object, not a path: given a path, pypdf reads the whole file into memory
        try:
            reader = pypdf.PdfReader(f, strict=False)
            if reader.is_encrypted:
                raise DocumentRefused(
                    _('The PDF is password-protected; attach an unprotected copy.'),
                    field='file')
            # the declared count first: counting the pages themselves parses every one
            tree = reader.trailer['/Root']['/Pages']
            declared = tree['/Count'] if '/Count' in tree else 0
            if isinstance(declared, int) and declared > PDF_MAX_PAGES:
                raise DocumentRefused(
                    _('This PDF has more than ${n} pages; split it into parts.',
                      mapping={'n': PDF_MAX_PAGES}), field='file')
            pages = len(reader.pages)  # bounded: pypdf stops past PDF_MAX_PAGES entries
            if pages < 1:
                raise ValueError('no pages')
            reader.pages[0].mediabox  # noqa: B018 - reading it proves the page tree is sound
            return pages
        except DocumentRefused:
            raise
        except pypdf.errors.LimitReachedError:
            raise DocumentRefused(
                _('This PDF is too large or too complex to be read safely. Split it, or '
                  'print it again to PDF.'), field='file')
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
                OSError, RecursionError, MemoryError, ArithmeticError, LookupError):
            raise DocumentRefused(
                _('This is not a readable PDF: it is damaged or only named like one.'),
                field='file')


def extract_text(path, content_type):
    """The text of a PDF or office document, for search, truncated at the limits
    above ('' when there is none or it cannot be read: extraction never refuses)."""
    deadline = time.monotonic() + TEXT_SECONDS
    try:
        if content_type == 'application/pdf':
            return _pdf_text(path, deadline)
        if content_type in OFFICE_ZIP_KINDS or content_type in {k.decode() for k in ODF}:
            return _office_text(path, content_type, deadline)
    except Exception:  # a document we cannot read is still kept; it is only not searchable
        return ''
    return ''


def _pdf_text(path, deadline):
    parts, total = [], 0
    with open(path, 'rb') as f, pypdf.apply_configuration(**PDF_LIMITS):
        reader = pypdf.PdfReader(f, strict=False)
        for number, page in enumerate(reader.pages):
            if number >= TEXT_PAGES or total > TEXT_LIMIT or time.monotonic() > deadline:
                break
            try:
                text = page.extract_text() or ''
            except Exception:  # this page is beyond a limit or broken; the others still count
                continue
            parts.append(text)
            total += len(text) + 1
    return '\n'.join(parts)[:TEXT_LIMIT]


def _office_text(path, content_type, deadline):
    """Text of the searched parts, inflated a chunk at a time and stripped of tags as
    it goes; stops at ``TEXT_BYTES`` of XML, ``TEXT_LIMIT`` characters or the deadline."""
    parts, chars, budget = [], 0, TEXT_BYTES
    with zipfile.ZipFile(path) as z:
        for name in text_members(content_type, set(z.namelist())):
            decoder = codecs.getincrementaldecoder('utf-8')('replace')
            pending = ''
            with z.open(name) as member:
                while budget > 0 and chars < TEXT_LIMIT and time.monotonic() < deadline:
                    data = member.read(min(CHUNK, budget))
                    if not data:
                        break
                    budget -= len(data)
                    pending += decoder.decode(data)
                    # keep an unfinished tag for the next chunk; the text before it is done
                    cut = pending.rfind('<')
                    if cut >= 0 and '>' not in pending[cut:] and len(pending) - cut < CHUNK:
                        done, pending = pending[:cut], pending[cut:]
                    else:
                        done, pending = pending, ''
                    text = _TAG.sub(' ', done)
                    parts.append(text)
                    chars += len(text)
            parts.append(' ')
            if budget <= 0 or chars >= TEXT_LIMIT or time.monotonic() >= deadline:
                break
    return html.unescape(' '.join(''.join(parts).split()))[:TEXT_LIMIT]
