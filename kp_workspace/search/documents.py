"""What the index holds for a file or summary, and who may find it.

``allowed`` follows :meth:`kp_workspace.access.Officer.can_view` exactly: the
posts of the movement chain, plus the department's archive readers when the
item is put away in the records and routine (:func:`kp_workspace.access.in_the_records`),
or the department's diary when the item is a receipt.  :func:`principals_for` is
the officer's side of the same rule.
"""
import datetime

from ..access import in_the_records
from ..ocr import recognised_text
from ..security.roles import READ_ARCHIVE, REGISTER_RECEIPT, permissions_of

MAX_TEXT = 200_000


def allowed_principals(item):
    allowed = [f'post:{p}' for p in item.chain]
    if item.kind == 'receipt':
        allowed.append(f'diary:{item.department}')
    elif in_the_records(item):
        allowed.append(f'archive:{item.department}')
    return ' '.join(allowed)


def principals_for(officer):
    """What an officer matches in ``allowed``."""
    found = [f'post:{p}' for p in officer.post_ids]
    for dept, roles in officer.department_roles.items():
        granted = permissions_of(roles)
        if READ_ARCHIVE in granted:
            found.append(f'archive:{dept}')
        if REGISTER_RECEIPT in granted:
            found.append(f'diary:{dept}')
    return found


def item_text(item):
    parts = [item.subject]
    parts.extend(n.text for n in item.notes.values())
    if item.kind == 'summary':
        parts.extend((item.background, item.proposal, item.financial_implications,
                      item.decision_sought, item.decision_remarks or ''))
    elif item.kind == 'receipt':
        parts[1:1] = [item.sender, item.reference]
        if item.letter is not None:
            parts.append(recognised_text(item.letter))
    return '\n'.join(p for p in parts if p)[:MAX_TEXT]


def sub_text(item, key):
    """The text of document ``key`` (an item id, or ``item/a1`` for an attachment)."""
    _id, _sep, sub = key.partition('/')
    if not sub:
        return item_text(item)
    if sub in getattr(item, 'attachments', ()):
        att = item.attachments[sub]
        return f'{att.title}\n{recognised_text(att)}'[:MAX_TEXT]
    if sub in getattr(item, 'drafts', ()):
        draft = item.drafts[sub]
        return f'{draft.subject}\n{draft.body}'[:MAX_TEXT]
    return ''


def _date(item):
    last = item.last_movement()
    at = last.at if last is not None else item.created_at
    return at.astimezone(datetime.timezone.utc).replace(tzinfo=None)


def _read(att):
    """What of ``att``'s text recognition a document is built from, for its stamp
    (recognition ends without touching the item's activity)."""
    return f'|ocr:{att.ocr_state}' if att is not None and att.ocr_state else ''


def documents_for(item):
    """The index documents of ``item``: itself, its attachments and its drafts."""
    allowed = allowed_principals(item)
    stamp = f'{item.activity}|{item.state}|{allowed}'
    common = {'item': item.id, 'number': item.number, 'department': item.department,
              'state': item.state, 'classification': item.classification, 'allowed': allowed, 'date': _date(item), 'stamp': stamp}
    docs = [dict(common, key=item.id, kind=item.kind, title=item.subject,
                 content=f'{item.number}\n{item_text(item)}',
                 stamp=stamp + _read(getattr(item, 'letter', None)))]
    for att in getattr(item, 'attachments', {}).values() if item.kind == 'file' else ():
        docs.append(dict(common, key=f'{item.id}/{att.id}', kind='attachment',
                         title=f'{att.title} ({item.subject})',
                         content=sub_text(item, f'{item.id}/{att.id}'),
                         stamp=stamp + _read(att)))
    for draft in getattr(item, 'drafts', {}).values() if item.kind == 'file' else ():
        docs.append(dict(common, key=f'{item.id}/{draft.id}', kind='draft',
                         title=f'{draft.subject} ({item.subject})',
                         content=sub_text(item, f'{item.id}/{draft.id}')))
    return docs
