"""The role x permission table and the ACLs built from it."""
from pyramid.authorization import ACLHelper, Authenticated, Everyone

from kp_workspace.content_types.department import Department
from kp_workspace.security import roles
from kp_workspace.site import Site


def permits(context, principals, permission):
    return bool(ACLHelper().permits(context, [Everyone, Authenticated, *principals], permission))


def test_administrator_manages_people_but_opens_no_file():
    admin = roles.ROLES_BY_NAME['administrator']
    assert roles.MANAGE_USERS in admin.permissions
    file_work = {roles.OPEN_FILE, roles.WRITE_NOTE, roles.READ_ARCHIVE, roles.SIGN,
                 roles.DECIDE_SUMMARY, roles.APPROVE}
    assert not admin.permissions & file_work


def test_only_approvers_and_the_cm_sign_and_only_the_cm_decides():
    signers = {r.name for r in roles.ROLES if roles.SIGN in r.permissions}
    deciders = {r.name for r in roles.ROLES if roles.DECIDE_SUMMARY in r.permissions}
    assert signers == {'approver', 'chief_minister'} and deciders == {'chief_minister'}


def test_records_clerk_changes_nothing():
    assert roles.ROLES_BY_NAME['records_clerk'].permissions == {roles.READ_ARCHIVE}


def test_table_lists_every_permission_once():
    rows = roles.table()
    assert [r[0] for r in rows] == list(roles.PERMISSION_TITLES)
    assert all(set(cells) == set(roles.ALL_ROLE_NAMES) for _p, _t, cells in rows)
    roles._check_table()


def test_department_roles_apply_in_that_department_only():
    site = Site()
    finance, sports = Department('Finance', 'FD'), Department('Sports', 'SPD')
    for name, dept in (('finance', finance), ('sports', sports)):
        dept.__parent__, dept.__name__ = site, name
    finance.set_roles('post:so-fd', ('officer',))
    assert permits(finance, ['post:so-fd'], roles.OPEN_FILE)
    assert not permits(sports, ['post:so-fd'], roles.OPEN_FILE)
    assert not permits(site, ['post:so-fd'], roles.OPEN_FILE)


def test_global_roles_apply_at_the_site():
    site = Site()
    assert permits(site, ['role:administrator'], roles.MANAGE_USERS)
    assert not permits(site, ['role:officer'], roles.MANAGE_USERS)
    assert permits(site, [], roles.VIEW)
    assert not ACLHelper().permits(site, [Everyone], roles.VIEW)
