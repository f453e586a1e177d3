"""Roles, permissions and the role x permission table: the one place they are defined.

Everything else imports these constants.  A role is granted either globally (on
a user) or locally in a department (to a post, a user or a group); the ACLs of
the site and of each department are built from this table.
"""
from dataclasses import dataclass

from pyramid.authorization import ALL_PERMISSIONS, Allow, Authenticated, Deny, Everyone
from pyramid.i18n import TranslationStringFactory

_ = TranslationStringFactory('kp_workspace')

# Permissions -------------------------------------------------------------------------
VIEW = 'view'                          # use the workspace at all (signed in)
MANAGE_USERS = 'manage_users'          # create, edit, deactivate users, reset passwords
MANAGE_POSTS = 'manage_posts'          # create posts, assign and transfer incumbents
MANAGE_DEPARTMENTS = 'manage_departments'
MANAGE_ROLES = 'manage_roles'          # grant global and department roles
VIEW_AUDIT = 'view_audit'              # page through the audit log
OPEN_FILE = 'open_file'                # open a case file in a department
WRITE_NOTE = 'write_note'
ATTACH = 'attach'
DRAFT = 'draft'
FORWARD = 'forward'
APPROVE = 'approve'
SIGN = 'sign'
DECIDE_SUMMARY = 'decide_summary'
READ_ARCHIVE = 'read_archive'          # search and read closed files of the department
REGISTER_RECEIPT = 'register_receipt'  # diary incoming correspondence
ACCOUNT = 'account'                    # one's own account: password, devices, the home page
CABINET = 'cabinet'                    # open the cabinet pages (each says who may see what)
MANAGE_CABINET = 'manage_cabinet'      # schedule cabinet meetings, their agenda and papers
CABINET_SECRET = 'cabinet_secret'      # handle a secret meeting's papers before it meets
SIGN_MINUTES = 'sign_minutes'          # confirm and sign the cabinet's minutes
READ_CABINET_PAPERS = 'read_cabinet_papers'  # a member: papers of the meetings called to
VIEW_IMPLEMENTATION = 'view_implementation'  # the dashboard of cabinet decisions' implementation

PERMISSION_TITLES = {
    VIEW: _('Use the workspace'),
    MANAGE_USERS: _('Manage users'),
    MANAGE_POSTS: _('Manage posts'),
    MANAGE_DEPARTMENTS: _('Manage departments'),
    MANAGE_ROLES: _('Grant roles'),
    VIEW_AUDIT: _('Read the audit log'),
    OPEN_FILE: _('Open case files'),
    WRITE_NOTE: _('Write notes'),
    ATTACH: _('Attach correspondence'),
    DRAFT: _('Draft outgoing documents'),
    FORWARD: _('Forward and return files'),
    APPROVE: _('Approve drafts'),
    SIGN: _('Sign documents'),
    DECIDE_SUMMARY: _('Decide summaries'),
    READ_ARCHIVE: _('Search and read closed files'),
    REGISTER_RECEIPT: _('Register receipts'),
    ACCOUNT: _('Manage one\'s own account'),
    CABINET: _('Open the cabinet pages'),
    MANAGE_CABINET: _('Prepare cabinet meetings and record their decisions'),
    CABINET_SECRET: _('Handle secret cabinet papers before the meeting'),
    SIGN_MINUTES: _('Confirm and sign the cabinet\'s minutes'),
    READ_CABINET_PAPERS: _('Read the papers of the cabinet meetings one is called to'),
    VIEW_IMPLEMENTATION: _('See the implementation of cabinet decisions'),
}

_FILE_WORK = frozenset({OPEN_FILE, WRITE_NOTE, ATTACH, DRAFT, FORWARD})


@dataclass(frozen=True)
class Role:
    name: str
    title: str
    permissions: frozenset
    description: str = ''


ROLES = (
    Role('officer', _('Officer'), _FILE_WORK,
         _('Opens files, writes notes, attaches, drafts and forwards on files their post holds.')),
    Role('approver', _('Approver'), _FILE_WORK | {APPROVE, SIGN},
         _('An officer who also approves and signs (Secretary and the like).')),
    Role('chief_minister', _('Chief Minister'),
         _FILE_WORK | {APPROVE, SIGN, DECIDE_SUMMARY, VIEW_IMPLEMENTATION},
         _('Decides and signs summaries.')),
    Role('chief_secretary', _('Chief Secretary'), frozenset({VIEW_IMPLEMENTATION, SIGN_MINUTES}),
         _('Follows the implementation of cabinet decisions in every department, and '
           'confirms and signs the minutes of the cabinet (held with the Approver role for '
           'file work and signing).')),
    Role('records_clerk', _('Records clerk'), frozenset({READ_ARCHIVE}),
         _('Searches and reads closed files of the department; changes nothing.')),
    Role('diary_clerk', _('Diary clerk'), frozenset({REGISTER_RECEIPT}),
         _('Registers incoming correspondence.')),
    Role('cabinet_wing', _('Cabinet Wing officer'), frozenset({MANAGE_CABINET}),
         _('Schedules cabinet meetings, orders their agenda, issues their papers and records '
           'the decisions.')),
    Role('cabinet_secretary', _('Secretary Cabinet'), frozenset({MANAGE_CABINET, CABINET_SECRET}),
         _('A Cabinet Wing officer who also handles secret papers before the meeting.')),
    Role('cabinet_member', _('Member of the cabinet'), frozenset({READ_CABINET_PAPERS}),
         _('A Minister or Adviser: reads the papers of the meetings they are called to, and '
           'nothing else of the workspace.')),
    Role('administrator', _('Administrator'),
         frozenset({MANAGE_USERS, MANAGE_POSTS, MANAGE_DEPARTMENTS, MANAGE_ROLES, VIEW_AUDIT}),
         _('Manages people, posts, departments and roles. Does not read files.')),
)

ROLES_BY_NAME = {role.name: role for role in ROLES}
ALL_ROLE_NAMES = tuple(ROLES_BY_NAME)
ALL_PERMISSIONS_LISTED = tuple(PERMISSION_TITLES)


def _check_table():
    """Every role names only known permissions (checked when the app starts)."""
    for role in ROLES:
        unknown = role.permissions - set(PERMISSION_TITLES)
        if unknown:
            raise ValueError(f'role {role.name} names unknown permissions {sorted(unknown)}')


def role_principal(name):
    return f'role:{name}'


def permissions_of(role_names):
    """The union of the permissions of ``role_names`` (unknown names grant nothing)."""
    perms = set()
    for name in role_names:
        role = ROLES_BY_NAME.get(name)
        if role is not None:
            perms |= role.permissions
    return perms


# Global roles confined to the cabinet pages (and their own account): no VIEW for them,
# whatever else they hold, so no page of the file work opens to them.
CONFINED_ROLES = ('cabinet_member',)


def site_acl():
    """The ACL at the root: global roles, then members of the cabinet denied the
    workspace, then signed-in users may view, use their account and open the cabinet
    pages, then nothing."""
    acl = [(Allow, role_principal(role.name), tuple(sorted(role.permissions)))
           for role in ROLES]
    acl.extend((Deny, role_principal(name), (VIEW,)) for name in CONFINED_ROLES)
    acl.append((Allow, Authenticated, (VIEW, ACCOUNT, CABINET)))
    acl.append((Deny, Everyone, ALL_PERMISSIONS))
    return acl


def local_acl(local_roles):
    """ACL entries for ``{principal: roles}`` granted inside one department."""
    return [(Allow, principal, tuple(sorted(permissions_of(roles))))
            for principal, roles in sorted(local_roles.items()) if roles]


def table():
    """Rows of the role x permission table: ``(permission, title, {role: bool})``."""
    return [(perm, title, {role.name: perm in role.permissions for role in ROLES})
            for perm, title in PERMISSION_TITLES.items()]
