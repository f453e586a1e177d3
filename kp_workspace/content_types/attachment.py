"""Attachment: correspondence kept as a ZODB blob; receipts carry a diary number.

The type is decided by the bytes, not the name: a file called ``x.pdf`` that
is not a PDF is refused, and so is a PDF pypdf cannot read.  The upload is
copied into the blob in chunks and counted as it goes, so an upload over the
limit stops at the limit and a large file never sits whole in memory.  Reading
the file (its type, its pages, its text) is bounded: see :mod:`.extract`.
"""
import os
import tempfile

from persistent import Persistent
from pyramid.i18n import TranslationStringFactory
from ZODB.blob import Blob

from ..errors import DomainError
from ..security.roles import ATTACH, REGISTER_RECEIPT
from ..text_rules import check_name, scrub
from .extract import check_pdf, extract_text, sniff
from .movable import check_change, now, touch

_ = TranslationStringFactory('kp_workspace')

CHUNK = 1 << 20
DEFAULT_LIMIT = 50 * 1024 * 1024

ACCEPTED = 'PDF, PNG, JPEG, GIF, TIFF, Word, Excel, PowerPoint, OpenDocument'

# What a browser may show inline, beside the noting sheet: PDFs (its own viewer) and
# raster images.  Never SVG or HTML (they can carry script), nor anything else.
READABLE = {'application/pdf': 'pdf', 'image/png': 'image', 'image/jpeg': 'image',
            'image/gif': 'image', 'image/webp': 'image'}
# What is downloaded under its own type; any other type (from an older release or a
# damaged record) is downloaded as bytes, never as something a browser would run.
DOWNLOADED = set(READABLE) | {'image/tiff', 'application/x-ole-storage'} | {
    'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    'application/vnd.oasis.opendocument.text',
    'application/vnd.oasis.opendocument.spreadsheet',
    'application/vnd.oasis.opendocument.presentation'}


def flag_letters(seq):
    """The flag of the ``seq``-th attachment (1 → A, 26 → Z, 27 → AA, as files are flagged)."""
    letters = ''
    while seq > 0:
        seq, rest = divmod(seq - 1, 26)
        letters = chr(ord('A') + rest) + letters
    return letters


class UploadRefused(DomainError):
    pass


class Attachment(Persistent):
    type_name = 'Attachment'
    seq = None   # its place in the order attached (1, 2, ...): its flag; see evolve step 10
    held_in = None     # the id of the file it is in (None: a receipt's letter not filed)
    # text recognition of a scan (kp_workspace.ocr): None (not a scan), waiting, reading,
    # done, failed; pages read so far, of how many; why it failed; the text read; and
    # the searchable PDF copy kept beside the original (never altered)
    ocr_state = None
    ocr_done = 0
    ocr_pages = None
    ocr_error = ''
    ocr_reason = None   # why it failed, in a word (kp_workspace.ocr.engine.REASONS)
    ocr_text = ''
    searchable = None

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

    @property
    def flag(self):
        """The letter officers cite in notes ("F/A"), fixed when it was attached."""
        return flag_letters(self.seq) if self.seq else ''

    @property
    def reading(self):
        """How a browser may show it beside the notes: 'pdf', 'image' or None (download)."""
        return READABLE.get(self.content_type)

    @property
    def served_type(self):
        """The type it is downloaded as: its own when known and harmless, else bytes."""
        return self.content_type if self.content_type in DOWNLOADED \
            else 'application/octet-stream'


def in_order(item):
    """The attachments of ``item`` in the order attached (their flags' order)."""
    return sorted(item.attachments.values(), key=lambda a: (a.seq or 0, a.at, a.id))


def next_seq(item):
    return 1 + max((a.seq or 0 for a in item.attachments.values()), default=0)


def too_large(limit):
    """The refusal of a file over ``limit`` bytes (the browser's script says it too)."""
    return UploadRefused(
        _('The file is larger than the limit of ${mb} MB.', mapping={'mb': limit >> 20}),
        field='file', status=413)


def copy_limited(source, target, limit):
    """Copy ``source`` into ``target`` in chunks; stop with an error past ``limit`` bytes."""
    total = 0
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            return total
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        target.write(chunk)


def attach(item, officer, stream, filename, title='', receipt=False, limit=DEFAULT_LIMIT,
           tmp_dir=None):
    """Attach the bytes of ``stream`` to case file ``item`` as its holder.

    :param receipt: an inward letter: it gets the next diary number of the department.
    :raises UploadRefused: too large (413), empty, of a type not accepted (415), broken PDF.
    :raises Refused: the file is closed (409), the role may not attach, or register a
        receipt (403), the officer does not hold it (409).
    """
    post_id = check_change(item, officer, REGISTER_RECEIPT if receipt else ATTACH)
    att = receive(officer, stream, filename, title, post_id, limit, tmp_dir, item)
    if receipt:
        att.diary_number = diary_number(officer.site, item.department)
    add_to_file(item, officer, att)
    from ..ocr import queue_if_scanned   # (a scan: its text is read after the upload)
    queue_if_scanned(officer.site, att, item.id)
    return att


def diary_number(site, department):
    """The next diary number of ``department``: ``CODE/D/YEAR/NNNN``."""
    year = now().year
    serial = site.desk.next_number(department, 'diary', year)
    return f'{site["departments"][department].code}/D/{year}/{serial:04d}'


def add_to_file(casefile, officer, att, **record):
    """Put ``att`` (received, not yet in any file) into ``casefile``'s correspondence
    under the next flag, and record it."""
    att_id = f'a{len(casefile.attachments) + 1}'
    while att_id in casefile.attachments:
        att_id += 'x'
    att.id = att_id
    att.seq = next_seq(casefile)
    att.held_in = casefile.id
    casefile.attachments.add(att_id, att)
    touch(casefile)
    if att.diary_number:
        record['diary'] = att.diary_number
    officer.actor.record('attachment.added', f'file:{casefile.id}', attachment=att_id,
                         type=att.content_type, size=att.size, **record)


def receive(officer, stream, filename, title, post_id, limit=DEFAULT_LIMIT, tmp_dir=None,
            near=None):
    """An :class:`Attachment` (in no file yet) holding the bytes of ``stream``, checked.

    :param near: a stored object: the upload is spooled in its database's blob
        directory (then moved into the blob, not copied).
    :raises UploadRefused: too large (413), empty, of a type not accepted (415), broken PDF.
    """
    if tmp_dir is None and getattr(near, '_p_jar', None) is not None:
        # the blob directory's own temporary directory: consumeFile then renames, not copies
        tmp_dir = near._p_jar.db().storage.temporaryDirectory()
    filename = os.path.basename((filename or '').replace('\\', '/'))[:200] or 'attachment'
    filename = check_name(filename, 'file', 200)
    title = check_name(title or filename, 'title', 200)
    if getattr(stream, 'seekable', lambda: False)():
        # A request retried after a conflict reaches here again with the same upload
        # (the body is spooled once, the form parsed once): read it from its start.
        stream.seek(0)
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
        att = Attachment(None, title, filename, content_type, size, officer.login, post_id,
                         now(), pages=pages)
        att.text = scrub(extract_text(path, content_type))
        # consumeFile moves the temporary file into the blob directory (no copy in memory)
        att.blob.consumeFile(path)
        path = None
        return att
    finally:
        if path is not None and os.path.exists(path):
            os.remove(path)
