"""Receipt: an inward letter registered in the department's diary (the dak).

The diary clerk registers a letter (who sent it, their reference and date, the
subject, how it came, its scan), which gets the department's next diary number
(``CODE/D/YEAR/NNNN``, the series receipts attached to files have always used).
The receipt then moves like a file: the diary marks it to an officer's post,
where it waits in that post's Receipts list; the officer opens a new file on it
or puts it into a file they hold (the scan becomes correspondence of that file,
keeping its diary number), marks it on, or sends it back to the diary.  Its
movement register, the audit log and alerts record every step, as for a file
(:func:`~kp_workspace.content_types.movable.move`).

Who sees a receipt: the posts it passed through (its chain, as for a file) and
the diary of its department (whoever holds ``REGISTER_RECEIPT`` there), whose
register it is in (:func:`kp_workspace.access.Officer.can_view`).
"""
import datetime

from pyramid.i18n import TranslationStringFactory

from ..errors import DomainError
from ..security.roles import ATTACH, REGISTER_RECEIPT
from ..text_rules import check_name
from ..workflows import Refused
from .attachment import DEFAULT_LIMIT, add_to_file, receive
from .movable import Movable, check_change, check_choice, create, now, put_away

_ = TranslationStringFactory('kp_workspace')

MODES = ('post', 'hand', 'courier', 'email', 'fax')
MODE_TITLES = {'post': _('By post'), 'hand': _('By hand'), 'courier': _('By courier'),
               'email': _('By e-mail'), 'fax': _('By fax')}
# where the diary register is: what a movement line names when the diary holds it
DIARY = 'diary'


class Receipt(Movable):
    type_name = 'Receipt'
    kind = 'receipt'
    final_states = ('in_file',)   # put into a file: it lives on there as correspondence
    file_id = None                # the file it was put into
    filed_at = None

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.state = 'diary'
        self.sender = ''
        self.reference = ''       # the sender's own reference number
        self.letter_date = None   # a datetime.date, or None when the letter has none
        self.mode = 'post'
        self.diary_post = None    # the post that registered it (where it goes back to)
        self.letter = None        # the scan: an Attachment, in no file until put into one

    @property
    def registered_at(self):
        return self.created_at


def diary_post(officer, department, post_id=None):
    """The post through which ``officer`` keeps ``department``'s diary.  :raises Refused:"""
    posts = officer.posts_with(REGISTER_RECEIPT, department)
    if post_id:
        posts = [p for p in posts if p.post_id == post_id]
    if not posts:
        raise Refused(_('Only the diary registers receipts and gives them a diary number; '
                        'you hold no post that keeps the diary of this department.'),
                      status=403)
    return posts[0]


def check_letter_date(value):
    """A letter's date: a date (or ``YYYY-MM-DD``) not in the future, or None."""
    if value in (None, ''):
        return None
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise DomainError(_('Give the date of the letter as year-month-day, e.g. 2026-03-31.'),
                          field='letter_date')
    if value > now().date() + datetime.timedelta(days=1):   # (a day for time zones)
        raise DomainError(_('The letter cannot be dated after today.'), field='letter_date')
    if value.year < 1900:
        raise DomainError(_('Give the date of the letter as year-month-day, e.g. 2026-03-31.'),
                          field='letter_date')
    return value


def register_receipt(department, officer, sender, subject, mode, stream, filename,
                     reference='', letter_date=None, classification='routine',
                     priority='routine', post_id=None, limit=DEFAULT_LIMIT):
    """Enter an inward letter in ``department``'s diary; it waits with the diary.

    Everything is checked before the diary number is taken.

    :raises Refused: (403) the officer does not keep this department's diary.
    :raises DomainError: (400) a missing or malformed field; (413, 415) the scan.
    """
    post = diary_post(officer, department.__name__, post_id)
    sender = check_name(sender, 'sender', 200, minimum=2)
    reference = check_name(reference or '', 'reference', 100, minimum=0)
    letter_date = check_letter_date(letter_date)
    mode = check_choice(mode, MODES, 'mode')
    if stream is None:
        raise DomainError(_('Attach the scan of the letter (or the e-mail as received).'),
                          field='file')
    letter = receive(officer, stream, filename, subject if isinstance(subject, str) else '',
                     post.post_id, limit, near=department)
    receipt = create(Receipt, department, officer, post, '{code}/D/{year}/{serial:04d}',
                     'diary', subject, classification, priority, sender=sender,
                     reference=reference, letter_date=letter_date, mode=mode,
                     diary_post=post.post_id)
    letter.diary_number = receipt.number
    letter.title = check_name(receipt.subject, 'title', 200)
    receipt.letter = letter
    officer.site.desk.enter_in_diary(receipt)
    from ..ocr import queue_if_scanned   # (a scan: its text is read after the upload)
    queue_if_scanned(officer.site, letter, receipt.id)
    return receipt


def put_in_file(receipt, officer, casefile):
    """Put ``receipt`` into ``casefile``: its scan becomes the file's correspondence under
    the next flag, keeping the diary number; the receipt leaves the Receipts list for good.

    The officer holds both (the file open); the role may attach to the file.
    """
    check_change(receipt, officer)
    check_change(casefile, officer, ATTACH)
    if casefile.kind != 'file':
        raise Refused(_('A receipt goes into a case file.'), status=400)
    letter = receipt.letter
    letter.post_id = casefile.holder
    add_to_file(casefile, officer, letter, receipt=receipt.id)
    receipt.file_id = casefile.id
    receipt.filed_at = put_away(receipt, officer, 'file', casefile.number)
    officer.actor.record('receipt.filed', f'receipt:{receipt.id}', file=casefile.id,
                         number=casefile.number)
    return letter


def held_files(officer, post_id, limit=200):
    """The open case files ``post_id`` (held by ``officer``) holds, newest first: where a
    receipt may be put."""
    desk = officer.site.desk
    found = []
    for _ts, item_id in desk.held([post_id]):
        item = desk.items.get(item_id)
        if item is not None and item.kind == 'file' and not item.is_final():
            found.append(item)
            if len(found) == limit:
                break
    return found
