"""Department: folderish; holds case files and summaries, and local role grants."""
import re

import colander
from BTrees.OOBTree import OOBTree
from pyramid.i18n import TranslationStringFactory

from ..container import Folder, FolderKeyError
from ..errors import Conflict, DomainError
from ..security.roles import ALL_ROLE_NAMES, ROLES_BY_NAME, local_acl
from ..text_rules import check_name

_ = TranslationStringFactory('kp_workspace')

CODE_RE = re.compile(r'^[A-Z][A-Z0-9&]{0,9}$')


class Department(Folder):
    """A department of the provincial government.

    ``code`` is the prefix of its file numbers (``FD`` in ``FD/B/2026/0001``).
    ``local_roles`` maps a principal (``post:...``, ``user:...``, ``group:...``)
    to the roles it holds inside this department; the department's ACL is built
    from it and the role table in :mod:`kp_workspace.security.roles`.
    """

    type_name = 'Department'

    def __init__(self, title, code, title_ur=''):
        super().__init__()
        self.title = title
        self.code = code
        self.title_ur = title_ur
        self.local_roles = OOBTree()

    @property
    def __acl__(self):
        return local_acl(self.local_roles)

    def roles_of(self, principal):
        return tuple(self.local_roles.get(principal, ()))

    def set_roles(self, principal, roles):
        """Grant exactly ``roles`` to ``principal`` here (none removes the grant)."""
        unknown = set(roles) - set(ALL_ROLE_NAMES)
        if unknown:
            raise DomainError(_('Unknown role: ${role}', mapping={'role': sorted(unknown)[0]}))
        roles = tuple(r for r in ALL_ROLE_NAMES if r in roles)
        if roles:
            self.local_roles[principal] = roles
        elif principal in self.local_roles:
            del self.local_roles[principal]
        return roles


class DepartmentSchema(colander.Schema):
    title = colander.SchemaNode(colander.String(), title=_('Name'),
                                validator=colander.Length(min=3, max=120))
    title_ur = colander.SchemaNode(colander.String(), title=_('Name in Urdu'),
                                   missing='', validator=colander.Length(max=120))
    code = colander.SchemaNode(
        colander.String(), title=_('File number code'),
        description=_('Capital letters, e.g. FD for Finance; starts every file number.'),
        validator=colander.Regex(CODE_RE, _('Use 1 to 10 capital letters or digits, starting with a letter.')))


def departments_with_code(departments, code):
    return [d for d in departments.values() if d.code == code]


def _names(title, title_ur):
    """A department's names, checked by the shared text rules.  :raises DomainError:"""
    return (check_name(title, 'title', 120, minimum=3),
            check_name(title_ur, 'title_ur', 120, minimum=0))


def add_department(departments, actor, name, title, code, title_ur=''):
    """Create a department under ``departments`` and record it.

    :raises Conflict: the name or the code is taken.
    :raises DomainError: the name or the code is malformed.
    """
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise DomainError(_('Use 1 to 10 capital letters or digits, starting with a letter.'),
                          field='code')
    try:
        departments.check_name(name)
    except FolderKeyError as e:
        raise Conflict(str(e), field='name') if name in departments else DomainError(str(e), field='name')
    if departments_with_code(departments, code):
        raise Conflict(_('Another department already uses the code ${code}.', mapping={'code': code}),
                       field='code')
    title, title_ur = _names(title, title_ur)
    department = departments.add(name, Department(title, code, title_ur))
    actor.record('department.created', f'department:{name}', title=title, code=code)
    return department


def update_department(department, actor, title, code, title_ur=''):
    """Change a department's names and code and record what changed."""
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise DomainError(_('Use 1 to 10 capital letters or digits, starting with a letter.'),
                          field='code')
    others = [d for d in departments_with_code(department.__parent__, code) if d is not department]
    if others:
        raise Conflict(_('Another department already uses the code ${code}.', mapping={'code': code}),
                       field='code')
    title, title_ur = _names(title, title_ur)
    changes = {}
    for attr, value in (('title', title), ('code', code), ('title_ur', title_ur)):
        if getattr(department, attr) != value:
            changes[attr] = f'{getattr(department, attr)} -> {value}'
            setattr(department, attr, value)
    if 'title' in changes or 'title_ur' in changes:
        department.__parent__.changed()  # renamed: the post directory is out of date
    if changes:
        actor.record('department.updated', f'department:{department.__name__}', **changes)
    return changes


def grant_local_role(actor, principals, department, principal, role, granted):
    """Grant (or withdraw) ``role`` for ``principal`` inside ``department`` and record it.

    ``principal`` is ``user:<login>``, ``group:<id>`` or ``post:<id>`` and must exist.
    """
    kind, _sep, name = (principal or '').partition(':')
    folders = {'user': principals.users, 'group': principals.groups, 'post': principals.posts}
    if kind not in folders or name not in folders[kind]:
        raise DomainError(_('Name a user (user:login), a group (group:id) or a post (post:id) '
                            'that exists.'), field='principal')
    if role not in ROLES_BY_NAME:
        raise DomainError(_('Unknown role: ${role}', mapping={'role': role}), field='role')
    principals.check_not_own_access(actor, principal)
    if kind == 'user' and granted:
        principals.check_not_administrator(principals.users[name])
    current = set(department.roles_of(principal))
    if (role in current) == granted:
        return False
    current = current | {role} if granted else current - {role}
    department.set_roles(principal, current)
    actor.record('role.granted' if granted else 'role.withdrawn',
                 f'department:{department.__name__}', principal=principal, role=role)
    return True


def includeme(config):
    config.add_content_type(Department, schema=DepartmentSchema, addable_to=('Site',),
                            title=_('Department'))
