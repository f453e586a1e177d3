"""Numbers and dates from the query string, read the same way by every view.

A value that is not a plain whole number or an ISO date, or is outside the
range the view can use, is refused with a :class:`~kp_workspace.errors.DomainError`
(400, naming the parameter), which the error views answer as JSON under
``/api/`` and as a page in the browser.  Nothing is clamped in silence.
"""
import base64
import binascii
import datetime
import json
import math
import re

from pyramid.i18n import TranslationStringFactory

from ..errors import DomainError

_ = TranslationStringFactory('kp_workspace')

# ASCII digits only: int() would also take "1_000", " 12 " and Arabic-Indic digits.
_WHOLE = re.compile(r'[+-]?[0-9]{1,19}')
MAX_OFFSET = 1_000_000
MAX_PAGE = 10_000
MAX_NOTE_NUMBER = 999_999_999   # (see note_number)
INT64 = 2 ** 63 - 1
EARLIEST = datetime.date(1900, 1, 1)
LATEST = datetime.date(2199, 12, 31)


def whole_number(request, name, default, minimum=0, maximum=MAX_OFFSET):
    """The query parameter ``name`` as an int in ``[minimum, maximum]``, or ``default``
    when it is absent or empty.  :raises DomainError: (400) anything else."""
    raw = request.params.get(name, '').strip()
    if not raw:
        return default
    value = int(raw) if _WHOLE.fullmatch(raw) else None
    if value is None or not minimum <= value <= maximum:
        raise DomainError(_('"${name}" must be a whole number from ${minimum} to ${maximum}.',
                            mapping={'name': name, 'minimum': minimum, 'maximum': maximum}),
                          field=name)
    return value


def offset_and_limit(request, default_limit=50, max_limit=200):
    """The ``offset`` and ``limit`` of a list.  :raises DomainError: (400)"""
    return (whole_number(request, 'offset', 0, 0, MAX_OFFSET),
            whole_number(request, 'limit', default_limit, 1, max_limit))


def encode_cursor(list_name, key):
    """The opaque ``cursor`` of the page after the row whose key is ``key`` in
    ``list_name`` (None: no page follows)."""
    if key is None:
        return None
    raw = json.dumps([list_name, *key], separators=(',', ':')).encode()
    return base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def _cursor_key(text, list_name):
    """The key a cursor from ``list_name`` stands for, or None when it is not one."""
    if len(text) > 400 or not re.fullmatch(r'[A-Za-z0-9_-]+', text):
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(text + '=' * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        return None
    if not (isinstance(value, list) and len(value) == 3 and value[0] == list_name):
        return None
    first, item_id = value[1], value[2]
    if isinstance(first, bool) or not isinstance(first, (int, float)) \
            or not math.isfinite(first) or not isinstance(item_id, str):
        return None
    return (first, item_id)


def offset_limit_or_cursor(request, list_name, default_limit=50, max_limit=200):
    """``(offset, limit, after)`` of a list read by ``offset`` or by the ``cursor`` a
    previous page gave (``after``: its key; the offset is then 0).  A cursor holds
    while items arrive and leave; an offset shifts with them.
    :raises DomainError: (400) a bad number, a cursor this list did not give, or both."""
    offset, limit = offset_and_limit(request, default_limit, max_limit)
    raw = request.params.get('cursor', '').strip()
    if not raw:
        return offset, limit, None
    if offset:
        raise DomainError(_('Give "offset" or "cursor", not both.'), field='cursor')
    after = _cursor_key(raw, list_name)
    if after is None:
        raise DomainError(_('"cursor" is not one this list gave; start again without it.'),
                          field='cursor')
    return 0, limit, after


def flag(request, name):
    """The query parameter ``name`` as a yes or no: ``true``/``1`` or ``false``/``0``
    (absent: no).  :raises DomainError: (400) anything else."""
    raw = request.params.get(name, '').strip().lower()
    if raw in ('', 'false', '0'):
        return False
    if raw in ('true', '1'):
        return True
    raise DomainError(_('"${name}" must be true or false.', mapping={'name': name}),
                      field=name)


def page_number(request, name='page'):
    """A page number from 1.  :raises DomainError: (400)"""
    return whole_number(request, name, 1, 1, MAX_PAGE)


def finite_number(text, name):
    """``text`` as a finite float (a position in a list).  :raises DomainError: (400)"""
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or abs(value) > 1e15:
        raise DomainError(_('"${name}" is not a position from this page.', mapping={'name': name}),
                          field=name)
    return value


def day(request, name):
    """The query parameter ``name`` as a date (YYYY-MM-DD) between 1900 and 2199, or
    None when it is absent or empty.  :raises DomainError: (400) anything else."""
    raw = request.params.get(name, '').strip()
    if not raw:
        return None
    try:
        value = datetime.date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None:
        raise DomainError(_('"${name}" must be a date like 2026-11-23.', mapping={'name': name}),
                          field=name)
    if not EARLIEST <= value <= LATEST:
        raise DomainError(_('"${name}" must be a date between ${first} and ${last}.',
                            mapping={'name': name, 'first': EARLIEST.isoformat(),
                                     'last': LATEST.isoformat()}), field=name)
    return value


def note_number(text):
    """A note number from an address (``.../notes/3``), or None when it cannot be one
    (the note trees take numbers below 2**31)."""
    return int(text) if re.fullmatch(r'[0-9]{1,9}', text or '') else None
