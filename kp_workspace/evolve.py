"""Numbered evolve steps: how the database layout is created and upgraded.

``STEPS`` is ordered by generation.  A database at generation N runs every step
above N in order, each in the same transaction as the start-up check, and ends
at :data:`GENERATION`.  A step must be safe to run on any database at the
generation before it; steps are never edited once released, only added.
"""
import os
import re
import uuid

from BTrees.OOBTree import OOBTree

from .alerts import AlertStore
from .charts import stays
from .audit import ensure_anchors, ensure_audit_log, now
from .container import Folder
from .content_types.extract import DocumentRefused, check_pdf
from .content_types.outgoing import PublishedNotices
from .desk import LONG_STAY, Desk
from .security.charges import Charges
from .dispatch import DispatchBook, note_issued
from .recordroom import UNCLASSED, RecordRoom
from .security.principals import Principals
from .security.revocation import RevokedSessions
from .security.throttle import LoginThrottle, SignInThrottle
from .search.documents import allowed_principals
from .search.queue import IndexQueue
from .security.tokens import TokenStore
from .signing.authority import SigningAuthority


def _add(site, name, obj):
    obj.__parent__, obj.__name__ = site, name
    site._items[name] = obj
    site._count.change(1)


def step_1_layout(site, registry):
    """Departments and principals (users, groups, posts)."""
    if 'departments' not in site:
        _add(site, 'departments', Folder())
    if 'principals' not in site:
        _add(site, 'principals', Principals())


def step_2_tokens_and_throttle(site, registry):
    """The API token store and the failed sign-in counter."""
    if getattr(site, 'tokens', None) is None:
        site.tokens = TokenStore()
    if getattr(site, 'login_attempts', None) is None:
        site.login_attempts = LoginThrottle()  # (replaced by step 9)


def step_3_revoked_sessions(site, registry):
    """Record of browser sessions ended by signing out."""
    if getattr(site, 'revoked_sessions', None) is None:
        site.revoked_sessions = RevokedSessions()


def step_4_desk_and_alerts(site, registry):
    """The desk registers (item ids, inboxes, counts) and users' alert boxes."""
    if getattr(site, 'desk', None) is None:
        site.desk = Desk()
    if getattr(site, 'alerts', None) is None:
        site.alerts = AlertStore()


def step_5_signing(site, registry):
    """The signing certificate authority and the register of published notifications."""
    if getattr(site, 'signing', None) is None:
        site.signing = SigningAuthority(registry.kpw_settings.secret)
    if getattr(site, 'notices', None) is None:
        site.notices = PublishedNotices()


def step_6_index_queue(site, registry):
    """The queue of changes awaiting the search indexer (replaces search-queue.txt)."""
    if getattr(site, 'index_queue', None) is None:
        site.index_queue = IndexQueue()
    # Items an older release failed to index waited in a file; they join the queue.
    path = os.path.join(registry.kpw_settings.var_dir, 'search-queue.txt')
    if os.path.exists(path):
        with open(path, encoding='ascii') as f:
            for item_id in sorted({line.strip() for line in f if line.strip()}):
                if item_id in site.desk.items:
                    site.index_queue.add(item_id, allowed_principals(site.desk.items[item_id]))
        site._p_jar.transaction_manager.get().addAfterCommitHook(
            lambda committed: committed and os.remove(path))


def step_7_audit_shards(site, registry):
    """The audit log spreads its entries over several trees (fewer conflicts)."""
    ensure_audit_log(site._p_jar).add_shards()


def step_8_audit_chains(site, registry):
    """The audit log becomes tamper-evident: its entries are chained, shard by shard."""
    # Every entry there is now is chained once, as it stands (see kp_workspace.audit).
    log = ensure_audit_log(site._p_jar)
    log.chain_all(now())
    ensure_anchors(log)


def step_9_sign_in_throttle_by_address(site, registry):
    """Failed sign-ins are counted per login and address (no more lock for everyone).

    The older per-login counter's counts are kept as the logins' counts; its
    locks, which closed a login to everyone, are dropped.
    """
    old = getattr(site, 'login_attempts', None)
    if not isinstance(old, SignInThrottle):
        site.login_attempts = SignInThrottle.from_login_throttle(old)


def step_10_alerts_by_item(site, registry):
    """Each alert box indexes its unread alerts by item (opening an item marks them read).

    What was unread stays unread: every alert newer than the box's last "mark all
    as read".
    """
    for _login, box in site.alerts._boxes.items():
        if getattr(box, '_unread', None) is None:
            box.index_unread()


def _attached_order(att):
    number = re.match(r'a(\d+)', att.id)
    return (att.at, int(number.group(1)) if number else 0, att.id)


def step_11_attachment_flags(site, registry):
    """Every attachment gets its flag (A, B, C... in the order attached) and every PDF
    its page count, for the references officers cite in notes ("F/A, page 3")."""
    for item in site.desk.items.values():
        if getattr(item, 'kind', None) != 'file':
            continue
        attachments = list(item.attachments.values())
        seq = max((a.seq or 0 for a in attachments), default=0)
        for att in sorted((a for a in attachments if not a.seq), key=_attached_order):
            seq += 1
            att.seq = seq
        for att in attachments:
            if att.content_type == 'application/pdf' and not att.pages:
                try:
                    att.pages = check_pdf(att.blob.committed())  # bounded (see extract)
                except DocumentRefused:
                    att.pages = None  # unreadable now: the list shows no count


def step_12_desk_stays(site, registry):
    """The desk keeps each completed stay of a day or more (when an item came and left),
    for the dashboard's overdue trend; filled from every item's movement register."""
    desk = site.desk
    if getattr(desk, '_stays', None) is not None:
        return
    tree = desk.stays_tree()
    now_ts = now().timestamp()
    for item in desk.items.values():
        for stay in stays(item, now_ts):  # (the same walk as a file's timeline)
            if not stay['now'] and stay['seconds'] >= LONG_STAY:
                desk._set(tree, stay['post']).add(
                    (stay['until'], stay['since'], item.priority, item.id))


def step_13_filed_summaries_in_the_records(site, registry):
    """A filed routine summary is in the department's records, like a closed file: its
    records clerks may find it, so each is indexed again with its new readers."""
    for item_id, item in site.desk.items.items():
        if getattr(item, 'kind', None) == 'summary' and item.state == 'filed':
            site.index_queue.add(item_id, allowed_principals(item))


def step_14_more_audit_shards(site, registry):
    """The audit log spreads its entries over more trees (64, was 8), each with its
    chain's head and anchor: with 8, two processes of 8 threads each wrote to
    every shard at once, and reads of PDFs were refused after every retry."""
    ensure_audit_log(site._p_jar).add_shards()


def step_15_movement_registers(site, registry):
    """Nothing to change: a file's movement register becomes a
    :class:`~kp_workspace.content_types.movable.Movements` at its next move (its list
    reads the same until then).  The generation says so, so that an older release,
    which cannot read a register, refuses the database instead of failing on every
    file moved since."""


def step_16_dak(site, registry):
    """The dak: the receipts each post holds, and each department's diary register."""
    desk = site.desk
    if getattr(desk, '_receipts', None) is None:
        desk._receipts = OOBTree()
    if getattr(desk, '_diary', None) is None:
        desk._diary = OOBTree()


def step_17_acting_charges(site, registry):
    """The acting charges of posts (none yet)."""
    if getattr(site, 'charges', None) is None:
        site.charges = Charges()


def step_18_dispatch_registers(site, registry):
    """The departments' dispatch registers (``site.dispatch``); every document issued
    before them awaits dispatch in its department's register."""
    if getattr(site, 'dispatch', None) is not None:
        return
    site.dispatch = DispatchBook()
    for item in site.desk.items.values():
        if getattr(item, 'kind', None) != 'file':
            continue
        for draft in item.drafts.values():
            if draft.state == 'issued' and draft.issued_at is not None:
                note_issued(site, item, draft)


def step_19_follow_ups(site, registry):
    """The desk's follow-up registers: each item's number (to find a file by the number
    an officer types, filled from every item), the links between items ("put up
    with"), and the files parked awaiting a reply (none yet)."""
    desk = site.desk
    if getattr(desk, '_parking', None) is None:
        desk._follow_up_trees()
    numbers = desk.numbers_tree()  # (all of them: one made before this step may be partial)
    for item_id, item in desk.items.items():
        if numbers.get(item.number) != item_id:
            numbers[item.number] = item_id


def step_20_record_room(site, registry):
    """The record room's registers (``site.recordroom``).  A file closed before them has
    no record class: it becomes class A (kept permanently), so nothing is weeded that
    nobody classed; a records clerk's Secretary may reopen and close it again to
    class it otherwise."""
    if getattr(site, 'recordroom', None) is not None:
        return
    site.recordroom = RecordRoom()
    for item in site.desk.items.values():
        if getattr(item, 'kind', None) == 'file' and item.state == 'closed' \
                and getattr(item, 'record_class', None) is None:
            item.record_class = UNCLASSED


def step_21_alert_numbers(site, registry):
    """Each alert box numbers its alerts in the order they were added (the cursor of
    ``GET /api/v1/alerts/changes``, which counted microseconds before: a cursor an app
    kept from then is refused, and the app starts again without one)."""
    for _login, box in site.alerts._boxes.items():
        if getattr(box, '_numbered', None) is None:
            box.number_all()


def step_22_ocr_queue(site, registry):
    """The queue of scans to read (``site.ocr_queue``), with every scan attached before it:
    images, and PDFs without text of their own, in files and in the dak."""
    from .ocr import OcrQueue, queue_if_scanned
    if getattr(site, 'ocr_queue', None) is not None:
        return
    site.ocr_queue = OcrQueue()
    # a dak letter first, as its receipt's (read, it re-indexes both the receipt and the
    # file it was put into, its held_in); then the files' own scans, as theirs
    for item_id, item in site.desk.items.items():
        for att in getattr(item, 'attachments', {}).values():
            att.held_in = item_id
        if getattr(item, 'letter', None) is not None:
            queue_if_scanned(site, item.letter, item_id)
    for item_id, item in site.desk.items.items():
        for att in getattr(item, 'attachments', {}).values():
            if att.ocr_state is None:   # (not a letter queued already)
                queue_if_scanned(site, att, item_id)


def step_23_cabinet(site, registry):
    """The cabinet's registers (``site.cabinet``): proposed agenda items, meetings, the
    members called to each and the signed minutes (none yet)."""
    from .cabinet import Cabinet
    if getattr(site, 'cabinet', None) is None:
        site.cabinet = Cabinet()
def step_24_implementation(site, registry):
    """The registers of cabinet decisions sent to departments for implementation
    (``site.implementation``, none yet).  The Chief Secretary's post, as the seed data
    names it (``chief-secretary``), gets the new ``chief_secretary`` role, which lets it
    see the implementation dashboard (elsewhere an administrator grants it)."""
    from .implementation import ImplementationBook
    if getattr(site, 'implementation', None) is None:
        site.implementation = ImplementationBook()
    dept = site['departments'].get('chief-secretary')
    if dept is not None and 'chief-secretary' in site['principals'].posts:
        roles = dept.roles_of('post:chief-secretary')
        if roles and 'chief_secretary' not in roles:
            dept.set_roles('post:chief-secretary', set(roles) | {'chief_secretary'})


def step_25_public_figures(site, registry):
    """The public figures of each department's case files (``site.pendency``), filled
    from every file there is (its opening, closes and reopens), and a stable id for the
    public notifications feed."""
    from .transparency import Pendency, fill
    if getattr(site.notices, 'feed_id', None) is None:
        site.notices.feed_id = str(uuid.uuid4())
        site.notices.feed_started = now()
    if getattr(site, 'pendency', None) is None:
        site.pendency = fill(site, Pendency())


STEPS = (
    (1, step_1_layout),
    (2, step_2_tokens_and_throttle),
    (3, step_3_revoked_sessions),
    (4, step_4_desk_and_alerts),
    (5, step_5_signing),
    (6, step_6_index_queue),
    (7, step_7_audit_shards),
    (8, step_8_audit_chains),
    (9, step_9_sign_in_throttle_by_address),
    (10, step_10_alerts_by_item),
    (11, step_11_attachment_flags),
    (12, step_12_desk_stays),
    (13, step_13_filed_summaries_in_the_records),
    (14, step_14_more_audit_shards),
    (15, step_15_movement_registers),
    (16, step_16_dak),
    (17, step_17_acting_charges),
    (18, step_18_dispatch_registers),
    (19, step_19_follow_ups),
    (20, step_20_record_room),
    (21, step_21_alert_numbers),
    (22, step_22_ocr_queue),
    (23, step_23_cabinet),
    (24, step_24_implementation),
    (25, step_25_public_figures),
)
GENERATION = STEPS[-1][0]


class EvolveError(RuntimeError):
    """The database is newer than this code: refuse to touch it."""


def pending(site, steps=STEPS):
    return [(gen, step) for gen, step in steps if gen > site.generation]


def refuse_newer(site, steps=STEPS):
    """:raises EvolveError: ``site`` is at a generation newer than ``steps`` know (a
    newer release wrote it: this one may not read what it stored, e.g. a movement
    register, and must not change it)."""
    newest = steps[-1][0] if steps else 0
    if site.generation > newest:
        raise EvolveError(
            f'The database is at generation {site.generation}, newer than this release '
            f'({newest}); upgrade the software before opening it.')


def evolve_site(site, registry, steps=STEPS):
    """Run the pending steps in order, recording the generation after each.

    :returns: the generation reached.
    :raises EvolveError: the database is at a generation this code does not know.
    """
    refuse_newer(site, steps)
    for gen, step in pending(site, steps):
        step(site, registry)
        site.generation = gen
    return site.generation
