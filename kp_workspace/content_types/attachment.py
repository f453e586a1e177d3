"""Attachment: correspondence kept as a ZODB blob; receipts carry a diary number.

The type is decided by the bytes, not the name: a file called ``x.pdf`` that
is not a PDF is refused, and so is a PDF pypdf cannot read.  The upload is
copied into the blob in chunks and counted as it goes, so an upload over the
limit stops at the limit and a large file never sits whole in memory.
"""
import os
import re
import tempfile
import zipfile

import pypdf
from persistent import Persistent
from pypdf.errors import PdfReadError
from pyramid.i18n import TranslationStringFactory
from ZODB.blob import Blob

from ..errors import DomainError
from ..text_rules import check_name, scrub
from .movable import acting_post, now, touch

_ = TranslationStringFactory('kp_workspace')

CHUNK = 1 << 20
DEFAULT_LIMIT = 50 * 1024 * 1024

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
ACCEPTED = 'PDF, PNG, JPEG, GIF, TIFF, Word, Excel, PowerPoint, OpenDocument'


class UploadRefused(DomainError):
    pass


def sniff(path):
    """``(content type, extension)`` of the file at ``path`` judged by its bytes, or None."""
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
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
                if 'mimetype' in names:
                    kind = ODF.get(z.read('mimetype').strip())
                    if kind:
                        return z.read('mimetype').strip().decode(), kind
                if '[Content_Types].xml' in names:
                    for prefix, found in OFFICE_ZIP.items():
                        if any(n.startswith(prefix) for n in names):
                            return found
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
    return None


def check_pdf(path):
    """Page count of a readable PDF.  :raises UploadRefused: a broken or fake PDF."""
    with open(path, 'rb') as f:
        # a file object, not a path: given a path, pypdf reads the whole file into memory
        return _check_pdf(f)


def _check_pdf(f):
    try:
        reader = pypdf.PdfReader(f, strict=False)
        if reader.is_encrypted:
            raise UploadRefused(_('The PDF is password-protected; attach an unprotected copy.'),
                                field='file', status=400)
        pages = len(reader.pages)
        if pages < 1:
            raise ValueError('no pages')
        reader.pages[0].mediabox  # noqa: B018 - reading it proves the page tree is sound
        return pages
    except UploadRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            OSError, RecursionError):
        raise UploadRefused(_('This is not a readable PDF: it is damaged or only named like one.'),
                            field='file', status=400)


TEXT_SOURCE_LIMIT = 20 * 1024 * 1024   # larger files are kept, but not read for search
TEXT_LIMIT = 200_000                    # characters of text kept for search
TEXT_PAGES = 200
TEXT_MEMBERS = {  # where the text of a word-processing document lives inside its zip
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'word/document.xml',
    'application/vnd.oasis.opendocument.text': 'content.xml',
}


def extract_text(path, content_type, size):
    """The text of a PDF or office document, for search ('' when there is none or it
    cannot be read: extraction never refuses an upload)."""
    if size > TEXT_SOURCE_LIMIT:
        return ''
    try:
        if content_type == 'application/pdf':
            parts, total = [], 0
            with open(path, 'rb') as f:
                reader = pypdf.PdfReader(f, strict=False)
                for page in reader.pages[:TEXT_PAGES]:
                    text = page.extract_text() or ''
                    parts.append(text)
                    total += len(text)
                    if total > TEXT_LIMIT:
                        break
            return '\n'.join(parts)[:TEXT_LIMIT]
        member = TEXT_MEMBERS.get(content_type)
        if member is not None:
            with zipfile.ZipFile(path) as z:
                xml = z.read(member)[:TEXT_LIMIT * 4].decode('utf-8', 'replace')
            return re.sub(r'<[^>]+>', ' ', xml)[:TEXT_LIMIT]
    except Exception:  # a document we cannot read is still kept; it is only not searchable
        return ''
    return ''


class Attachment(Persistent):
    type_name = 'Attachment'

    def __init__(self, att_id, title, filename, content_type, size, uploaded_by, post_id,
                 at, diary_number=None, pages=None):
        super().__init__()
        self.id = att_id
        self.title = title
        self.filename = filename
        self.content_type = content_type
        self.size = size
        self.uploaded_by = uploaded_by
        self.post_id = post_id
        self.at = at
        self.diary_number = diary_number
        self.pages = pages
        self.text = ''
        self.blob = Blob()

    def open(self):
        return self.blob.open('r')


def copy_limited(source, target, limit):
    """Copy ``source`` into ``target`` in chunks; stop with an error past ``limit`` bytes."""
    total = 0
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            return total
        total += len(chunk)
        if total > limit:
            raise UploadRefused(
                _('The file is larger than the limit of ${mb} MB.', mapping={'mb': limit >> 20}),
                field='file', status=413)
        target.write(chunk)


def attach(item, officer, stream, filename, title='', receipt=False, limit=DEFAULT_LIMIT,
           tmp_dir=None):
    """Attach the bytes of ``stream`` to case file ``item`` as its holder.

    :param receipt: an inward letter: it gets the next diary number of the department.
    :raises UploadRefused: too large (413), empty, of a type not accepted (415), broken PDF.
    """
    post_id = acting_post(item, officer)
    if tmp_dir is None and getattr(item, '_p_jar', None) is not None:
        # the blob directory's own temporary directory: consumeFile then renames, not copies
        tmp_dir = item._p_jar.db().storage.temporaryDirectory()
    filename = os.path.basename((filename or '').replace('\\', '/'))[:200] or 'attachment'
    filename = check_name(filename, 'file', 200)
    title = check_name(title or filename, 'title', 200)
    fd, path = tempfile.mkstemp(prefix='kpw-upload-', dir=tmp_dir)
    try:
        with os.fdopen(fd, 'wb') as out:
            size = copy_limited(stream, out, limit)
        if size == 0:
            raise UploadRefused(_('The file is empty.'), field='file')
        found = sniff(path)
        if found is None:
            raise UploadRefused(_('This kind of file is not accepted. Accepted: ${kinds}.',
                                  mapping={'kinds': ACCEPTED}), field='file', status=415)
        content_type, _ext = found
        pages = check_pdf(path) if content_type == 'application/pdf' else None
        site = officer.site
        diary = None
        if receipt:
            dept = site['departments'][item.department]
            year = now().year
            diary = f'{dept.code}/D/{year}/{site.desk.next_number(item.department, "diary", year):04d}'
        att_id = f'a{len(item.attachments) + 1}'
        while att_id in item.attachments:
            att_id += 'x'
        att = Attachment(att_id, title, filename, content_type, size, officer.login, post_id,
                         now(), diary_number=diary, pages=pages)
        att.text = scrub(extract_text(path, content_type, size))
        # consumeFile moves the temporary file into the blob directory (no copy in memory)
        att.blob.consumeFile(path)
        path = None
        item.attachments.add(att_id, att)
        touch(item)
        officer.actor.record('attachment.added', f'file:{item.id}', attachment=att_id,
                             type=content_type, size=size, **({'diary': diary} if diary else {}))
        return att
    finally:
        if path is not None and os.path.exists(path):
            os.remove(path)
