"""People: users, groups and posts, and the operations that change them.

Files move between *posts*, not people.  A user holds zero or more posts; when
an officer is transferred, the post passes to the successor and the files held
by the post go with it.  Which user holds which post is stored on both sides
(``User.post_ids`` and ``Post.holders``) because both are read on hot paths;
:class:`Principals` is the only code that changes either, so they stay in step.

Every change is recorded in the audit log through the :class:`~kp_workspace.audit.Actor`.
"""
import datetime
import re

from persistent import Persistent
from pyramid.i18n import TranslationStringFactory

from ..container import Folder, FolderKeyError
from ..errors import Conflict, DomainError, NotFound
from ..text_rules import check_name, check_text
from .passwords import burn_time, hash_password, needs_rehash, password_problem, verify_password
from .roles import ALL_ROLE_NAMES, role_principal

_ = TranslationStringFactory('kp_workspace')

LOGIN_RE = re.compile(r'^[a-z][a-z0-9._-]{1,39}$')
EMAIL_RE = re.compile(r'^[^@\s]+@[^@\s]+\.[^@\s]+$')


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


class User(Persistent):
    """A person who signs in.  ``roles`` are global roles; ``epoch`` changes
    whenever the user's sessions and tokens must stop working (password reset,
    deactivation)."""

    type_name = 'User'
    # Set by an administrator (on creation or reset): the user chooses their own at
    # the next sign-in, before anything else, so that nobody but the user knows it.
    must_change_password = False

    def __init__(self, login, name, email=''):
        super().__init__()
        self.login = login
        self.name = name
        self.email = email
        self.roles = ()
        self.group_ids = ()
        self.post_ids = ()
        self.active = True
        self.password_hash = None
        self.epoch = 0
        self.created = _now()
        self.password_changed = None

    @property
    def principal(self):
        return f'user:{self.login}'

    def principals(self):
        """The principals this user acts as (besides Everyone and Authenticated)."""
        found = [self.principal]
        found.extend(role_principal(r) for r in self.roles)
        found.extend(f'group:{g}' for g in self.group_ids)
        found.extend(f'post:{p}' for p in self.post_ids)
        return found

    def check_password(self, password):
        return self.password_hash is not None and verify_password(self.password_hash, password)


class Group(Persistent):
    """A named set of users that can be granted roles together.  Membership is
    kept on the users (``User.group_ids``)."""

    type_name = 'Group'

    def __init__(self, group_id, title):
        super().__init__()
        self.group_id = group_id
        self.title = title

    @property
    def principal(self):
        return f'group:{self.group_id}'


class Post(Persistent):
    """A designation in a department, e.g. "Secretary Finance".  The roles it
    confers are local roles of ``post:<id>`` in its department."""

    type_name = 'Post'
    title_ur = ''  # the designation in Urdu; posts stored before it had none (English shows)

    def __init__(self, post_id, title, department, title_ur=''):
        super().__init__()
        self.post_id = post_id
        self.title = title
        if title_ur:
            self.title_ur = title_ur
        self.department = department
        self.holders = ()
        self.created = _now()

    @property
    def principal(self):
        return f'post:{self.post_id}'


class Principals(Folder):
    """Holds the ``users``, ``groups`` and ``posts`` folders and the operations
    on them."""

    type_name = 'Principals'

    def __init__(self):
        super().__init__()
        for name in ('users', 'groups', 'posts'):
            folder = Folder()
            folder.__parent__, folder.__name__ = self, name
            self._items[name] = folder
            self._count.change(1)

    users = property(lambda self: self['users'])
    groups = property(lambda self: self['groups'])
    posts = property(lambda self: self['posts'])

    # lookups ---------------------------------------------------------------
    def user(self, login):
        """The user with ``login`` (case-insensitive).  :raises NotFound:"""
        user = self.users.get((login or '').strip().lower())
        if user is None:
            raise NotFound(_('There is no user "${login}".', mapping={'login': login}))
        return user

    def post(self, post_id):
        post = self.posts.get(post_id)
        if post is None:
            raise NotFound(_('There is no post "${post}".', mapping={'post': post_id}))
        return post

    # users -----------------------------------------------------------------
    def check_not_own_access(self, actor, principal):
        """Refuse (403) a change to the access of ``principal`` when it is the acting
        user, one of their groups or a post they hold: nobody widens their own access
        (an administrator who gave themselves a post could read its files); another
        administrator must make the change."""
        me = self.users.get(actor.login)
        if me is not None and principal in me.principals():
            raise DomainError(_('You cannot change your own access (posts, roles or groups); '
                                'another administrator must do it.'), status=403)

    def check_not_administrator(self, user):
        """Refuse (403) a post or a department role for an administrator: administrators
        manage people, not files -- else one administrator could make a second and
        have it give the first a post."""
        if user is not None and 'administrator' in user.roles:
            raise DomainError(_('${name} is an administrator: administrators cannot hold posts '
                                'or department roles.', mapping={'name': user.name}),
                              status=403)

    def add_user(self, actor, login, name, password, email='', roles=(), group_ids=(),
                 temporary=False):
        """Create an active user.  ``temporary``: the password was chosen by an
        administrator, and the user must change it at the first sign-in.

        :raises DomainError: a malformed login or e-mail, a weak password, an unknown role or group.
        :raises Conflict: the login is taken.
        """
        login = (login or '').strip().lower()
        if not LOGIN_RE.match(login):
            raise DomainError(_('A login is 2 to 40 lower-case letters, digits, ".", "_" or "-", '
                                'starting with a letter.'), field='login')
        if login in self.users:
            raise Conflict(_('The login "${login}" is taken.', mapping={'login': login}),
                           field='login')
        user = User(login, _clean_name(name), _clean_email(email))
        self._set_password(user, password)
        user.must_change_password = bool(temporary)
        user.roles = _check_roles(roles)
        user.group_ids = self._check_groups(group_ids)
        self.users.add(login, user)
        actor.record('user.created', user.principal, name=user.name, roles=','.join(user.roles))
        return user

    def update_user(self, actor, user, name, email, roles, group_ids, active):
        """Change a user's details, roles, groups and whether they may sign in."""
        values = {
            'name': _clean_name(name),
            'email': _clean_email(email),
            'roles': _check_roles(roles),
            'group_ids': self._check_groups(group_ids),
            'active': bool(active),
        }
        if not values['active'] and user.login == actor.login:
            raise DomainError(_('You cannot deactivate your own account.'), field='active')
        if (values['roles'], values['group_ids']) != (user.roles, user.group_ids):
            self.check_not_own_access(actor, user.principal)
        if 'administrator' in values['roles'] and 'administrator' not in user.roles and \
                user.post_ids:
            raise DomainError(_('${name} holds a post: relieve them of it before making them an '
                                'administrator.', mapping={'name': user.name}), status=403,
                              field='roles')
        changes = {}
        for attr, value in values.items():
            old = getattr(user, attr)
            if old != value:
                changes[attr] = f'{_show(old)} -> {_show(value)}'
                setattr(user, attr, value)
        if 'active' in changes:
            user.epoch += 1  # ends the user's sessions and API tokens
            actor.record('user.activated' if user.active else 'user.deactivated', user.principal)
            del changes['active']
        if changes:
            actor.record('user.updated', user.principal, **changes)
        return changes

    def reset_password(self, actor, user, password, temporary=True):
        """An administrator sets a new password; the user's sessions and tokens end, and
        (``temporary``) the user must choose their own at the next sign-in."""
        self._set_password(user, password)
        user.must_change_password = bool(temporary)
        user.epoch += 1
        actor.record('user.password_reset', user.principal)

    def change_own_password(self, actor, user, current, password):
        """A user changes their own password, proving the current one."""
        if not user.check_password(current):
            raise DomainError(_('The current password is not right.'), field='current')
        if user.must_change_password and user.check_password(password):
            raise DomainError(_('Choose a password of your own, not the one you were given.'),
                              field='password')
        self._set_password(user, password)
        user.must_change_password = False
        user.epoch += 1
        actor.record('user.password_changed', user.principal)

    def authenticate(self, login, password):
        """The active user with this login and password, or None.  Upgrades an
        outdated password hash on success."""
        user = self.users.get((login or '').strip().lower())
        if user is None or not user.active or user.password_hash is None:
            burn_time(password or '')
            return None
        if not user.check_password(password or ''):
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        return user

    def _set_password(self, user, password):
        problem = password_problem(password or '')
        if problem:
            raise DomainError(problem, field='password')
        user.password_hash = hash_password(password)
        user.password_changed = _now()

    # groups ----------------------------------------------------------------
    def add_group(self, actor, group_id, title):
        group_id = (group_id or '').strip().lower()
        try:
            self.groups.check_name(group_id)
        except FolderKeyError as e:
            error = Conflict if group_id in self.groups else DomainError
            raise error(str(e), field='group_id')
        group = self.groups.add(group_id, Group(group_id, _clean_name(title)))
        actor.record('group.created', group.principal, title=group.title)
        return group

    def _check_groups(self, group_ids):
        group_ids = tuple(sorted(set(group_ids or ())))
        for gid in group_ids:
            if gid not in self.groups:
                raise DomainError(_('There is no group "${group}".', mapping={'group': gid}),
                                  field='group_ids')
        return group_ids

    # posts -----------------------------------------------------------------
    def add_post(self, actor, departments, post_id, title, department, roles=(), title_ur=''):
        """Create a post in ``department`` (a name in ``departments``) conferring ``roles`` there;
        ``title_ur`` is its designation in Urdu (optional)."""
        post_id = (post_id or '').strip().lower()
        try:
            self.posts.check_name(post_id)
        except FolderKeyError as e:
            error = Conflict if post_id in self.posts else DomainError
            raise error(str(e), field='post_id')
        dept = _department(departments, department)
        roles = _check_roles(roles)
        post = self.posts.add(post_id, Post(post_id, _clean_name(title), department,
                                            _clean_title_ur(title_ur)))
        dept.set_roles(post.principal, roles)
        actor.record('post.created', post.principal, title=post.title, department=department,
                     roles=','.join(roles), **({'title_ur': post.title_ur} if post.title_ur else {}))
        return post

    def update_post(self, actor, departments, post, title, roles, title_ur=None):
        """Rename a post (in English and, unless ``title_ur`` is None, in Urdu) and set
        the roles it confers in its department."""
        dept = _department(departments, post.department)
        changes = {}
        title = _clean_name(title)
        if title != post.title:
            changes['title'] = f'{post.title} -> {title}'
            post.title = title
        if title_ur is not None:
            title_ur = _clean_title_ur(title_ur)
            if title_ur != post.title_ur:
                changes['title_ur'] = f'{post.title_ur} -> {title_ur}'
                post.title_ur = title_ur
        if changes:
            self.posts.changed()  # renamed: the post directory is out of date
        roles = _check_roles(roles)
        old_roles = dept.roles_of(post.principal)
        if roles != old_roles:
            self.check_not_own_access(actor, post.principal)
            dept.set_roles(post.principal, roles)
            changes['roles'] = f'{_show(old_roles)} -> {_show(roles)}'
        if changes:
            actor.record('post.updated', post.principal, **changes)
        return changes

    def assign(self, actor, post, user):
        """Make ``user`` a holder of ``post`` (a post may have several holders)."""
        if user.login in post.holders:
            raise Conflict(_('${name} already holds this post.', mapping={'name': user.name}))
        self.check_not_own_access(actor, user.principal)
        self.check_not_administrator(user)
        if not user.active:
            raise DomainError(_('${name} is deactivated and cannot hold a post.',
                                mapping={'name': user.name}))
        post.holders = post.holders + (user.login,)
        user.post_ids = user.post_ids + (post.post_id,)
        actor.record('post.assigned', post.principal, user=user.login)

    def check_relieve(self, actor, post, user):
        """:raises Conflict: ``user`` does not hold ``post`` (what :meth:`relieve` refuses)."""
        if user.login not in post.holders:
            raise Conflict(_('${name} does not hold this post.', mapping={'name': user.name}))

    def relieve(self, actor, post, user):
        """``user`` stops holding ``post``; the post and its files stay where they are."""
        self.check_relieve(actor, post, user)
        post.holders = tuple(h for h in post.holders if h != user.login)
        user.post_ids = tuple(p for p in user.post_ids if p != post.post_id)
        actor.record('post.relieved', post.principal, user=user.login)

    def check_transfer(self, actor, post, successor):
        """What :meth:`transfer` refuses, checked without doing it.

        :raises Conflict: the successor alone holds it already.
        :raises DomainError: one's own access, an administrator or a deactivated successor.
        """
        if post.holders == (successor.login,):
            raise Conflict(_('${name} already holds this post.', mapping={'name': successor.name}))
        self.check_not_own_access(actor, successor.principal)
        self.check_not_administrator(successor)
        if not successor.active:
            raise DomainError(_('${name} is deactivated and cannot hold a post.',
                                mapping={'name': successor.name}))

    def transfer(self, actor, post, successor):
        """Relieve every holder of ``post`` and hand it to ``successor``.

        The post keeps its files, so work waiting for the post reaches the successor.
        """
        self.check_transfer(actor, post, successor)
        previous = post.holders
        for login in previous:
            holder = self.users.get(login)
            if holder is not None:
                holder.post_ids = tuple(p for p in holder.post_ids if p != post.post_id)
        post.holders = (successor.login,)
        if post.post_id not in successor.post_ids:
            successor.post_ids = successor.post_ids + (post.post_id,)
        actor.record('post.transferred', post.principal, successor=successor.login,
                     previous=','.join(previous) or '-')

    def holders(self, post):
        """The users holding ``post``, in the order they were assigned."""
        return [self.users[login] for login in post.holders if login in self.users]


def effective_roles(user, departments):
    """Every role ``user`` holds: global roles, and department roles granted to the
    user, their groups or their posts.  :returns: a sorted list of role names."""
    roles = set(user.roles)
    principals = set(user.principals())
    for dept in departments.values():
        for principal, granted in dept.local_roles.items():
            if principal in principals:
                roles.update(granted)
    return sorted(roles)


def _department(departments, name):
    dept = departments.get(name)
    if dept is None:
        raise DomainError(_('There is no department "${department}".', mapping={'department': name}),
                          field='department')
    return dept


def _check_roles(roles):
    roles = set(roles or ())
    unknown = roles - set(ALL_ROLE_NAMES)
    if unknown:
        raise DomainError(_('Unknown role: ${role}', mapping={'role': sorted(unknown)[0]}),
                          field='roles')
    return tuple(r for r in ALL_ROLE_NAMES if r in roles)


def _clean_name(name):
    """A person's, group's or post's name: one line, 2 to 120 characters, white space
    runs made one space, and the shared text rules (no controls or direction changes)."""
    name = ' '.join(check_text(name, 'name', 1000, minimum=0).split())
    if not 2 <= len(name) <= 120:
        raise DomainError(_('A name needs 2 to 120 characters.'), field='name')
    return check_name(name, 'name', 120, minimum=2)


def _clean_title_ur(title_ur):
    """A post's Urdu designation (optional): one line, white space runs made one space,
    at most 120 characters, by the shared text rules."""
    return check_name(' '.join((title_ur or '').split()), 'title_ur', 120, minimum=0)


def _clean_email(email):
    email = check_name(email, 'email', 254, minimum=0)
    if email and not EMAIL_RE.match(email):
        raise DomainError(_('That is not an e-mail address.'), field='email')
    return email


def _show(value):
    if isinstance(value, tuple):
        return ','.join(value) or '-'
    return str(value) if value not in ('', None) else '-'
