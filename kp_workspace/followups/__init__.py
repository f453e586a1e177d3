"""Follow-ups on a case file: the files it is put up with, and parking it awaiting a reply.

- **Put up with**: the holder of an open file links another file or summary to it by
  the number written on its cover ("put up with FD/2025/0311"), with a remark, and
  may remove the link.  Only an item the officer may open can be linked; one that
  does not exist and one they may not open are refused alike (404), so its
  existence is not revealed.  Who reads a file sees only the links to items *they*
  may open, from either end ("Put up with", "Referred to in"); the others are left
  out, not counted.
- **Awaiting reply**: the holder parks the file until a date (tomorrow at the
  earliest, a year ahead at the latest) with the reason.  It leaves the inbox for
  the post's "Parked" list and comes back to the inbox, due, when the date comes
  (the lists read the desk's register by date: no job runs).  The holder may take
  it back before (resume); moving, closing or putting it away ends the parking
  (:meth:`kp_workspace.desk.Desk.lift`), whichever way it goes.

Every change passes :func:`~kp_workspace.content_types.movable.check_change` (not
closed, the role's permission, the holder) and is put on the audit record.  Links
and parking are registers of the desk, not lines of the movement register: the
file does not move.
"""
import datetime

from pyramid.i18n import TranslationStringFactory

from ..content_types.movable import check_change, nothing_here, now, touch
from ..desk import Link, Parking
from ..errors import DomainError
from ..security.roles import FORWARD, WRITE_NOTE
from ..text_rules import check_name, check_text
from ..workflows import Refused

_ = TranslationStringFactory('kp_workspace')

MAX_LINKS = 50          # links a file may carry
MAX_REMARK = 500
MAX_REASON = 500
MAX_AHEAD = 365         # days ahead a file may be parked
LINK_PERMISSION = WRITE_NOTE    # putting up another file is noting on this one
PARK_PERMISSION = FORWARD       # parking decides where the file waits, as moving it does

NO_SUCH_NUMBER = _('There is no file or summary numbered ${number} that you may open.')


def find_by_number(site, officer, number):
    """The file or summary numbered ``number`` (spaces and case do not matter), if
    ``officer`` may open it.

    :raises DomainError: (400) not a number at all; (404) none with that number, or
        one the officer may not open: the same words for both.
    """
    number = check_name(number, 'number', 60).upper().replace(' ', '')
    item_id = site.desk.find_number(number)
    item = site.desk.items.get(item_id) if item_id is not None else None
    if item is None or item.kind not in ('file', 'summary') or not officer.can_view(item):
        # (a receipt's diary number is not a file's: it goes into a file from Receipts)
        raise DomainError(_(NO_SUCH_NUMBER, mapping={'number': number}), field='number',
                          status=404)
    return item


def link(item, officer, number, remark=''):
    """Put ``item`` up with the file or summary numbered ``number``, as its holder.

    :returns: ``(the other item, the Link)``.
    :raises Refused: closed (409), the role may not (403), not the holder (409),
        linked already (409), too many links (409).
    :raises DomainError: a bad number (400), one not found or not to be opened (404),
        the item itself (400), a remark the text rules refuse (400).
    """
    post_id = check_change(item, officer, LINK_PERMISSION)
    other = find_by_number(officer.site, officer, number)
    remark = check_text(remark, 'remark', MAX_REMARK, minimum=0)
    desk = officer.site.desk
    if other.id == item.id:
        raise DomainError(_('A file cannot be put up with itself.'), field='number')
    if desk.link_between(item.id, other.id) is not None:
        raise Refused(_('${number} is already put up with this file.',
                        mapping={'number': other.number}))
    if len(desk.links_from(item.id)) >= MAX_LINKS:
        raise Refused(_('A file can be put up with at most ${n} others; remove one first.',
                        mapping={'n': MAX_LINKS}))
    found = Link(remark, officer.login, officer.user.name, post_id, now())
    desk.link(item.id, other.id, found)
    touch(item)
    officer.actor.record(f'{item.kind}.linked', f'{item.kind}:{item.id}',
                         to=f'{other.kind}:{other.id}', number=other.number, post=post_id)
    return other, found


def unlink(item, officer, other_id):
    """Remove the link from ``item`` to ``other_id``, as the holder of ``item``.

    :returns: the other item.
    :raises DomainError: (404) no such link, or one to an item the officer may not open.
    :raises Refused: as :func:`link`.
    """
    post_id = check_change(item, officer, LINK_PERMISSION)
    desk = officer.site.desk
    other = desk.items.get(other_id or '')
    if other is None or not officer.can_view(other) \
            or desk.link_between(item.id, other.id) is None:
        raise nothing_here()
    desk.unlink(item.id, other.id)
    touch(item)
    officer.actor.record(f'{item.kind}.unlinked', f'{item.kind}:{item.id}',
                         to=f'{other.kind}:{other.id}', number=other.number, post=post_id)
    return other


def links_seen(officer, item):
    """``[(other item, Link)]``: what ``item`` is put up with that ``officer`` may open
    (the others are left out)."""
    desk = officer.site.desk
    found = []
    for other_id, found_link in desk.links_from(item.id):
        other = desk.items.get(other_id)
        if other is not None and officer.can_view(other):
            found.append((other, found_link))
    return sorted(found, key=lambda pair: pair[1].at)


def referred_in(officer, item):
    """The items put up with ``item`` that ``officer`` may open (the others left out)."""
    desk = officer.site.desk
    found = [desk.items.get(other_id) for other_id in desk.referred_from(item.id)]
    return sorted((o for o in found if o is not None and officer.can_view(o)),
                  key=lambda o: o.number)


# parking -------------------------------------------------------------------------------
def follow_up_date(value, today):
    """``value`` (``YYYY-MM-DD``, or a date) as the date a parked file comes back:
    after ``today`` and at most :data:`MAX_AHEAD` days ahead.

    :raises DomainError: (400, on ``until``) not such a date, or out of that range.
    """
    day = value if isinstance(value, datetime.date) else None
    if day is None and isinstance(value, str) and len(value.strip()) == 10:
        try:
            day = datetime.date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is None:
        raise DomainError(_('Give the date as year-month-day, like ${example}.',
                            mapping={'example': (today + datetime.timedelta(days=14))
                                     .isoformat()}), field='until')
    last = today + datetime.timedelta(days=MAX_AHEAD)
    if day <= today:
        raise DomainError(_('The date must be after today.'), field='until')
    if day > last:
        raise DomainError(_('A file can be parked for a year at most: choose a date up to '
                            '${last}.', mapping={'last': last.isoformat()}), field='until')
    return day


def day_start(day):
    """The timestamp at which ``day`` begins (UTC): when a file parked until it is due."""
    return datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc).timestamp()


def until_day(parking):
    return datetime.datetime.fromtimestamp(parking.until, datetime.timezone.utc).date()


def park(item, officer, until, reason):
    """Park ``item`` at its holder's post until the date ``until``, awaiting a reply;
    parked already: the new date and reason replace the old.  :returns: the Parking.

    :raises Refused: closed (409), the role may not (403), not the holder (409).
    :raises DomainError: (400) a bad or out-of-range date, no reason, or a reason the
        text rules refuse.
    """
    post_id = check_change(item, officer, PARK_PERMISSION)
    at = now()
    day = follow_up_date(until, at.date())
    if reason is None or isinstance(reason, str) and not reason.strip():
        raise DomainError(_('Say what the file awaits: the reply, and from whom.'),
                          field='reason')
    reason = check_text(reason, 'reason', MAX_REASON, minimum=3)
    parking = Parking(post_id, day_start(day), reason, officer.login, officer.user.name, at)
    officer.site.desk.park(item, item.received_at, parking)
    touch(item)
    officer.actor.record(f'{item.kind}.parked', f'{item.kind}:{item.id}',
                         until=day.isoformat(), post=post_id)
    return parking


def resume(item, officer):
    """Take ``item`` back from parking into the holder's inbox (before its date, or once
    due).  :returns: the Parking it had.

    :raises Refused: as :func:`park`, and (409) when it is not parked.
    """
    post_id = check_change(item, officer, PARK_PERMISSION)
    parking = officer.site.desk.resume(item, item.received_at)
    if parking is None:
        raise Refused(_('${number} is not parked.', mapping={'number': item.number}))
    touch(item)
    officer.actor.record(f'{item.kind}.resumed', f'{item.kind}:{item.id}',
                         until=until_day(parking).isoformat(), post=post_id)
    return parking


def is_due(parking, now_ts):
    return parking.until <= now_ts
