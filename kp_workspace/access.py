"""Who is acting, through which posts, and what they may see and do.

Files and summaries are not protected by the department's ACL alone: who may
*see* one depends on its movement chain and classification, and who may *act*
on one depends on holding the post it sits with.  :class:`Officer` answers both
questions from the same facts for views, the API and search alike:

- **see**: a post the user holds is in the item's movement chain; or the item is
  put away (a closed file, a filed summary), routine, and the user is a records clerk
  of its department; or the item is a receipt and the user keeps the diary of its
  department (its register is theirs).
  Administrators get nothing from their role here.
- **act**: the permission must come from the user's global roles, the roles of
  the post holding the item (when the user holds it), or the user's roles in the
  item's department; the workflow guards then say whether this user, now, may.
  Every write on a file or summary (notes, attachments, receipts, drafts, their
  transitions, moves) passes one guard,
  :func:`kp_workspace.content_types.movable.check_change`: not closed or decided,
  the permission by :meth:`Officer.may`, and the holder.
"""
from pyramid.decorator import reify

from .security.charges import charges_of
from .security.roles import READ_ARCHIVE, REGISTER_RECEIPT, permissions_of

ROUTINE = 'routine'
# Put away in the department's records: a closed file (the record room), a filed summary.
IN_RECORDS = ('closed', 'filed')


def in_the_records(item):
    """Whether a records clerk of ``item``'s department may read it: put away, and
    routine (a confidential or secret one stays with the posts it passed through)."""
    return item.state in IN_RECORDS and item.classification == ROUTINE


class Officer:
    def __init__(self, user, site, actor, mailer=None):
        self.user = user
        self.site = site
        self.actor = actor
        self.mailer = mailer
        # the posts held acting today (an acting charge in force): held for every purpose
        # here, as the user's own are; the charge ends by itself when its days are over
        charges = charges_of(site)
        own = tuple(user.post_ids)
        self.acting_post_ids = tuple(p for p in (charges.posts_in_charge(user.login)
                                                 if charges is not None else ())
                                     if p not in own)
        self.post_ids = own + self.acting_post_ids

    def acts_for(self, post_id):
        """Whether the user holds ``post_id`` only acting (an acting charge)."""
        return post_id in self.acting_post_ids

    @property
    def login(self):
        return self.user.login

    @reify
    def _principals(self):
        return frozenset(self.user.principals()) | {f'post:{p}' for p in self.acting_post_ids}

    @reify
    def department_roles(self):
        """``{department name: set of roles}`` granted to the user, their groups or posts."""
        found = {}
        for dept in self.site['departments'].values():
            # (a look-up for each of the user's few principals, not a walk over every
            # post of every department: 40 departments held 2,500 entries)
            local = dept.local_roles
            for principal in self._principals:
                roles = local.get(principal)
                if roles:
                    found.setdefault(dept.__name__, set()).update(roles)
        return found

    def post_roles(self, post_id):
        """The roles a post confers in its own department."""
        post = self.site['principals'].posts.get(post_id)
        if post is None:
            return ()
        dept = self.site['departments'].get(post.department)
        return dept.roles_of(f'post:{post_id}') if dept is not None else ()

    def holds(self, post_id):
        return post_id in self.post_ids

    def roles_on(self, item):
        roles = set(self.user.roles)
        roles |= self.department_roles.get(item.department, set())
        if self.holds(item.holder):
            roles |= set(self.post_roles(item.holder))
        return roles

    def may(self, permission, item):
        return permission in permissions_of(self.roles_on(item))

    def may_in_department(self, permission, department):
        roles = set(self.user.roles) | self.department_roles.get(department, set())
        return permission in permissions_of(roles)

    def posts_with(self, permission, department=None):
        """Posts the user holds that confer ``permission`` (in ``department``, if given)."""
        posts = self.site['principals'].posts
        found = []
        for post_id in self.post_ids:
            post = posts.get(post_id)
            if post is None or (department is not None and post.department != department):
                continue
            if permission in permissions_of(self.post_roles(post_id)):
                found.append(post)
        return found

    def can_view(self, item):
        if any(p in item.chain for p in self.post_ids):
            return True
        if item.kind == 'receipt':
            return self.keeps_diary(item.department)
        return (in_the_records(item)
                and READ_ARCHIVE in permissions_of(self.department_roles.get(item.department, ())))

    def keeps_diary(self, department):
        """Whether the user keeps ``department``'s diary (``REGISTER_RECEIPT`` granted
        there, to them or to a post they hold): its register, and every receipt in it,
        are theirs to read."""
        return REGISTER_RECEIPT in permissions_of(self.department_roles.get(department, ()))
