"""Users, groups and posts: the domain rules, without the web layer."""
import pytest
from pyramid import testing

from kp_workspace.audit import Actor, AuditLog
from kp_workspace.container import Folder
from kp_workspace.content_types.department import Department
from kp_workspace.errors import Conflict, DomainError, NotFound
from kp_workspace.security.principals import Principals, effective_roles


@pytest.fixture
def world():
    testing.setUp()
    log = AuditLog()
    actor = Actor('admin', '127.0.0.1', log)
    departments = Folder()
    departments.add('finance', Department('Finance Department', 'FD'))
    principals = Principals()
    yield actor, departments, principals, log
    testing.tearDown()


def test_user_life(world):
    actor, _d, principals, log = world
    user = principals.add_user(actor, ' New.User ', 'New  User', 'good-password-1',
                               email='n@x.example')
    assert (user.login, user.name, user.active) == ('new.user', 'New User', True)
    assert principals.authenticate('NEW.USER', 'good-password-1') is user
    assert principals.authenticate('new.user', 'bad') is None
    assert principals.authenticate('ghost', 'good-password-1') is None
    principals.update_user(actor, user, 'New User', '', (), (), False)
    assert principals.authenticate('new.user', 'good-password-1') is None
    assert [e.action for e in log.page()[0]] == ['user.updated', 'user.deactivated', 'user.created']


@pytest.mark.parametrize('kwargs, error, field', [
    ({'login': 'x'}, DomainError, 'login'),
    ({'login': 'has space'}, DomainError, 'login'),
    ({'name': 'A'}, DomainError, 'name'),
    ({'email': 'not-an-email'}, DomainError, 'email'),
    ({'password': 'short'}, DomainError, 'password'),
    ({'roles': ('superuser',)}, DomainError, 'roles'),
    ({'group_ids': ('nogroup',)}, DomainError, 'group_ids'),
])
def test_add_user_refusals(world, kwargs, error, field):
    actor, _d, principals, log = world
    args = {'login': 'good.login', 'name': 'Good Name', 'password': 'good-password-1', **kwargs}
    with pytest.raises(error) as info:
        principals.add_user(actor, **args)
    assert info.value.field == field
    assert len(principals.users) == 0 and len(log) == 0


def test_duplicate_login_is_a_conflict(world):
    actor, _d, principals, _log = world
    principals.add_user(actor, 'dup', 'Dup One', 'good-password-1')
    with pytest.raises(Conflict):
        principals.add_user(actor, 'DUP', 'Dup Two', 'good-password-1')


def test_posts_assign_relieve_transfer(world):
    actor, departments, principals, _log = world
    post = principals.add_post(actor, departments, 'so-fd', 'Section Officer', 'finance',
                               ('officer',))
    assert departments['finance'].roles_of('post:so-fd') == ('officer',)
    a = principals.add_user(actor, 'a.user', 'A User', 'good-password-1')
    b = principals.add_user(actor, 'b.user', 'B User', 'good-password-1')
    principals.assign(actor, post, a)
    principals.assign(actor, post, b)
    assert post.holders == ('a.user', 'b.user') and 'post:so-fd' in a.principals()
    with pytest.raises(Conflict):
        principals.assign(actor, post, a)
    principals.relieve(actor, post, b)
    with pytest.raises(Conflict):
        principals.relieve(actor, post, b)
    principals.transfer(actor, post, b)
    assert (post.holders, a.post_ids, b.post_ids) == (('b.user',), (), ('so-fd',))
    with pytest.raises(Conflict):
        principals.transfer(actor, post, b)
    assert effective_roles(b, departments) == ['officer']
    principals.update_post(actor, departments, post, 'Section Officer (Budget)', ('approver',))
    assert departments['finance'].roles_of('post:so-fd') == ('approver',)
    assert effective_roles(b, departments) == ['approver']


def test_deactivated_user_cannot_take_a_post(world):
    actor, departments, principals, _log = world
    post = principals.add_post(actor, departments, 'p1', 'Post One', 'finance')
    u = principals.add_user(actor, 'gone', 'Gone User', 'good-password-1')
    principals.update_user(actor, u, 'Gone User', '', (), (), False)
    with pytest.raises(DomainError):
        principals.assign(actor, post, u)
    with pytest.raises(DomainError):
        principals.transfer(actor, post, u)


def test_post_refusals(world):
    actor, departments, principals, _log = world
    with pytest.raises(DomainError, match='no department'):
        principals.add_post(actor, departments, 'p1', 'Post One', 'nowhere')
    principals.add_post(actor, departments, 'p1', 'Post One', 'finance')
    with pytest.raises(Conflict):
        principals.add_post(actor, departments, 'p1', 'Post One', 'finance')
    with pytest.raises(DomainError):
        principals.add_post(actor, departments, 'Bad Id', 'Post', 'finance')
    with pytest.raises(NotFound):
        principals.post('nothing')


def test_groups_grant_roles_through_departments(world):
    actor, departments, principals, _log = world
    principals.add_group(actor, 'committee', 'Budget Committee')
    with pytest.raises(Conflict):
        principals.add_group(actor, 'committee', 'Again')
    u = principals.add_user(actor, 'member', 'Member', 'good-password-1', group_ids=('committee',))
    departments['finance'].set_roles('group:committee', ('records_clerk',))
    assert effective_roles(u, departments) == ['records_clerk']
    assert 'group:committee' in u.principals()
