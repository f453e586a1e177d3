"""Acting charge: a post's charge given to another user for dates.

An officer going on leave hands their desk to someone for a fortnight.  A charge
names the post, the user who holds it acting (the delegate), the first and last
day (inclusive, in the workspace's days: UTC dates) and why.  An administrator
gives a charge at once; the holder of a post may give its charge to a colleague,
and the charge is then in force only once an approver of the post's department
approves it.  During its days the delegate acts through the post as its holder
would (:class:`kp_workspace.access.Officer` adds the post to the delegate's
posts, in one place); outside them it grants nothing, so a charge ends by itself.
Revoking ends it at once.  Every step is in the audit log.

The post's own holders keep it: a charge adds a desk, it takes none away
(transferring a post works as before).
"""
import datetime
import secrets

from BTrees.OOBTree import OOBTree, OOTreeSet
from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

from ..errors import DomainError
from ..workflows import Refused
from .roles import APPROVE, MANAGE_POSTS, permissions_of

_ = TranslationStringFactory('kp_workspace')

LONGEST = 180          # days a charge may last at most
STATES = ('requested', 'approved', 'revoked')


def today():
    return datetime.datetime.now(datetime.timezone.utc).date()


class Charge(Persistent):
    def __init__(self, charge_id, post_id, login, start, end, reason, given_by, at, state):
        super().__init__()
        self.id, self.post_id, self.login = charge_id, post_id, login
        self.start, self.end, self.reason = start, end, reason
        self.given_by, self.given_at, self.state = given_by, at, state
        self.approved_by = self.approved_at = None
        self.revoked_by = self.revoked_at = None

    def in_force(self, day=None):
        day = day or today()
        return self.state == 'approved' and self.start <= day <= self.end

    def status(self, day=None):
        """``requested``, ``revoked``, or for an approved charge ``due`` (not begun),
        ``in_force`` or ``ended``."""
        if self.state != 'approved':
            return self.state
        day = day or today()
        if day < self.start:
            return 'due'
        return 'in_force' if day <= self.end else 'ended'


class Charges(Persistent):
    """Every charge, by id, by delegate and by post."""

    def __init__(self):
        super().__init__()
        self._by_id = OOBTree()
        self._by_login = OOBTree()   # login -> OOTreeSet(ids)
        self._by_post = OOBTree()    # post id -> OOTreeSet(ids)

    def get(self, charge_id):
        return self._by_id.get(charge_id or '')

    def _index(self, tree, key, charge_id):
        found = tree.get(key)
        if found is None:
            found = tree[key] = OOTreeSet()
        found.add(charge_id)

    def add(self, charge):
        self._by_id[charge.id] = charge
        self._index(self._by_login, charge.login, charge.id)
        self._index(self._by_post, charge.post_id, charge.id)

    def of_user(self, login):
        return [self._by_id[i] for i in self._by_login.get(login, ())]

    def of_post(self, post_id):
        return [self._by_id[i] for i in self._by_post.get(post_id, ())]

    def posts_in_charge(self, login, day=None):
        """The posts ``login`` holds acting on ``day`` (today)."""
        return tuple(c.post_id for c in self.of_user(login) if c.in_force(day))

    def acting(self, post_id, day=None):
        """The logins holding ``post_id`` acting on ``day`` (today)."""
        return [c.login for c in self.of_post(post_id) if c.in_force(day)]

    def newest(self, limit=200):
        return sorted(self._by_id.values(), key=lambda c: c.given_at, reverse=True)[:limit]


def charges_of(site):
    """The site's charges (a site from before their evolve step has none)."""
    return getattr(site, 'charges', None)


def _day(value, field):
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) and \
            len(value) == 10 else None
    except ValueError:
        return None


def check_days(start, end):
    """``(start, end)`` as dates: a real span, not over, at most :data:`LONGEST` days."""
    first, last = _day(start, 'start'), _day(end, 'end')
    if first is None:
        raise DomainError(_('Give the first day as year-month-day, e.g. 2026-12-14.'),
                          field='start')
    if last is None:
        raise DomainError(_('Give the last day as year-month-day, e.g. 2026-12-28.'),
                          field='end')
    if last < first:
        raise DomainError(_('The last day comes before the first.'), field='end')
    if last < today():
        raise DomainError(_('Those days are over: a charge is given for today or later.'),
                          field='end')
    if (last - first).days + 1 > LONGEST:
        raise DomainError(_('A charge lasts at most ${n} days; give a new one after it.',
                            mapping={'n': LONGEST}), field='end')
    return first, last


def may_manage(officer):
    return MANAGE_POSTS in permissions_of(officer.user.roles)


def give_charge(officer, post_id, login, start, end, reason):
    """Give the charge of ``post_id`` to ``login`` from ``start`` to ``end``.

    An administrator's charge is in force at once; a post's own holder may give its
    charge, and it waits for an approver of the department.

    :raises Refused: (403) neither; (409) the delegate already holds the post, or an
        overlapping charge of the post to them exists.
    :raises DomainError: (400) unknown post or user, bad days, no reason.
    """
    from ..text_rules import check_text
    site = officer.site
    principals = site['principals']
    post = principals.posts.get(post_id or '')
    if post is None:
        raise DomainError(_('There is no post "${post}".', mapping={'post': post_id}),
                          field='post', status=400)
    admin = may_manage(officer)
    if not admin and post_id not in officer.user.post_ids:
        raise Refused(_('You may give the charge only of a post you hold yourself.'),
                      status=403)
    user = principals.users.get(login or '')
    if user is None or not user.active:
        raise DomainError(_('There is no active user "${login}".', mapping={'login': login}),
                          field='login', status=400)
    principals.check_not_administrator(user)
    if post_id in user.post_ids:
        raise Refused(_('${name} holds this post already.', mapping={'name': user.name}))
    first, last = check_days(start, end)
    reason = check_text(reason, 'reason', 500, single_line=True)
    charges = charges_of(site)
    for other in charges.of_post(post_id):
        if other.login == login and other.state != 'revoked' and \
                other.start <= last and first <= other.end:
            raise Refused(_('${name} already has the charge of this post for some of those '
                            'days.', mapping={'name': user.name}))
    at = datetime.datetime.now(datetime.timezone.utc)
    charge = Charge(secrets.token_hex(5), post_id, login, first, last, reason,
                    officer.login, at, 'approved' if admin else 'requested')
    if admin:
        charge.approved_by, charge.approved_at = officer.login, at
    charges.add(charge)
    officer.actor.record('charge.given', f'post:{post_id}', charge=charge.id, to=login,
                         start=first.isoformat(), end=last.isoformat(), state=charge.state)
    return charge


def may_approve(officer, charge):
    """An approver of the post's department (through a post of theirs), neither the one
    who asked nor the delegate."""
    if officer.login in (charge.given_by, charge.login):
        return False
    post = officer.site['principals'].posts.get(charge.post_id)
    if post is None:
        return False
    return may_manage(officer) or bool(officer.posts_with(APPROVE, post.department))


def approve_charge(officer, charge):
    if charge.state != 'requested':
        raise Refused(_('This charge is not waiting for approval.'))
    if not may_approve(officer, charge):
        raise Refused(_("An approver of the post's department approves a charge; not the "
                        'officer who gives it, nor the one who takes it.'), status=403)
    check_days(charge.start, charge.end)
    charge.state = 'approved'
    charge.approved_by, charge.approved_at = officer.login, \
        datetime.datetime.now(datetime.timezone.utc)
    officer.actor.record('charge.approved', f'post:{charge.post_id}', charge=charge.id,
                         to=charge.login)
    return charge


def revoke_charge(officer, charge):
    """End a charge now (or withdraw a request): an administrator, whoever gave it, or
    the delegate giving it up."""
    if charge.state == 'revoked' or charge.status() == 'ended':
        raise Refused(_('This charge has ended already.'))
    if not may_revoke(officer, charge):
        raise Refused(_('Only an administrator, the one who gave the charge, the holder of '
                        'the post or the one who has it may end it.'), status=403)
    charge.state = 'revoked'
    charge.revoked_by, charge.revoked_at = officer.login, \
        datetime.datetime.now(datetime.timezone.utc)
    officer.actor.record('charge.revoked', f'post:{charge.post_id}', charge=charge.id,
                         to=charge.login)
    return charge


def may_revoke(officer, charge):
    return (may_manage(officer) or officer.login in (charge.given_by, charge.login)
            or charge.post_id in officer.user.post_ids)


def visible_to(officer, charge):
    """Who may see a charge: administrators, the delegate, whoever gave it, the post's
    holders, and the approvers of its department."""
    return (may_manage(officer) or officer.login in (charge.login, charge.given_by)
            or charge.post_id in officer.user.post_ids or may_approve(officer, charge))

