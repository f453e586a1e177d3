"""Administration of users: list, create, edit, deactivate, reset password, sign out
their devices."""
import colander
import deform
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config, view_defaults

from ...audit import actor_from_request
from ...i18n import display_title
from ...security.roles import MANAGE_USERS, ROLES
from ...site import get_site
from ..devices import device_rows, sign_out
from ..forms import CSRFSchema, run_form
from ..layout import flash
from . import PAGE_SIZE, crumbs

_ = TranslationStringFactory('kp_workspace')


@colander.deferred
def _group_choices(node, kw):
    groups = kw['principals'].groups
    return deform.widget.CheckboxChoiceWidget(
        values=[(g.group_id, g.title) for g in groups.values()])


def _role_choices():
    return deform.widget.CheckboxChoiceWidget(values=[(r.name, r.title) for r in ROLES])


class UserDetails(colander.Schema):
    name = colander.SchemaNode(colander.String(), title=_('Full name'),
                               validator=colander.Length(min=2, max=120))
    email = colander.SchemaNode(colander.String(), title=_('E-mail'), missing='',
                                validator=colander.Email(msg=_('That is not an e-mail address.')))
    roles = colander.SchemaNode(colander.Set(), title=_('Global roles'), missing=(),
                                description=_('Roles that apply in every department. '
                                              'Department roles come with posts.'),
                                widget=_role_choices())
    group_ids = colander.SchemaNode(colander.Set(), title=_('Groups'), missing=(),
                                    widget=_group_choices)


class UserAddSchema(CSRFSchema):
    login = colander.SchemaNode(colander.String(), title=_('Login'),
                                description=_('Lower-case letters, digits, "." "_" "-"; e.g. so.finance'))


class UserEditSchema(CSRFSchema):
    active = colander.SchemaNode(colander.Boolean(), title=_('Active'),
                                 description=_('A deactivated user cannot sign in; '
                                               'their sessions and API tokens end at once.'))


class PasswordSchema(CSRFSchema):
    password = colander.SchemaNode(
        colander.String(), title=_('New password'), description=_('At least 10 characters.'),
        widget=deform.widget.CheckedPasswordWidget(attributes={'autocomplete': 'new-password'}))


def user_add_schema():
    schema = UserAddSchema()
    for node in UserDetails().children:
        schema.add(node.clone())
    schema.add(PasswordSchema()['password'].clone())
    return schema


def user_edit_schema():
    schema = UserEditSchema()
    for node in reversed(UserDetails().children):
        schema.insert(1, node.clone())
    return schema


@view_defaults(permission=MANAGE_USERS)
class UserAdmin:
    def __init__(self, context, request):
        self.request = request
        self.principals = get_site(request)['principals']

    def _user(self):
        user = self.principals.users.get(self.request.matchdict['login'])
        if user is None:
            raise HTTPNotFound()
        return user

    def _title(self, ts):
        return self.request.localizer.translate(ts)

    @view_config(route_name='admin_users', renderer='kp_workspace:templates/admin/users.pt')
    def list(self):
        request = self.request
        users, next_after = self.principals.users.page(request.params.get('after'), PAGE_SIZE)
        posts = self.principals.posts
        rows = [{
            'login': u.login, 'name': u.name, 'active': u.active,
            'posts': ', '.join(display_title(posts[p], request) for p in u.post_ids if p in posts),
            'url': request.route_url('admin_user', login=u.login),
        } for u in users]
        return {
            'crumbs': crumbs(request),
            'rows': rows,
            'total': len(self.principals.users),
            'next_url': request.route_url('admin_users', _query={'after': next_after})
            if next_after else None,
            'add_url': request.route_url('admin_user_add'),
        }

    @view_config(route_name='admin_user_add', renderer='kp_workspace:templates/form.pt')
    def add(self):
        request = self.request

        def save(data):
            user = self.principals.add_user(
                actor_from_request(request), data['login'], data['name'], data['password'],
                email=data['email'], roles=data['roles'], group_ids=data['group_ids'],
                temporary=True)
            flash(request, _('User ${login} created.', mapping={'login': user.login}))
            return HTTPSeeOther(request.route_url('admin_user', login=user.login))

        result = run_form(request, user_add_schema(), save, buttons=(_('Create user'),),
                          bind={'principals': self.principals})
        if isinstance(result, dict):
            result.update(title=self._title(_('New user')),
                          crumbs=crumbs(request, (_('Users'), request.route_url('admin_users'))))
        return result

    @view_config(route_name='admin_user', renderer='kp_workspace:templates/admin/user.pt')
    def edit(self):
        request = self.request
        user = self._user()

        def save(data):
            changes = self.principals.update_user(
                actor_from_request(request), user, data['name'], data['email'], data['roles'],
                data['group_ids'], data['active'])
            return _('Saved.') if changes else _('Nothing changed.')

        appstruct = {'name': user.name, 'email': user.email, 'roles': set(user.roles),
                     'group_ids': set(user.group_ids), 'active': user.active}
        result = run_form(request, user_edit_schema(), save, appstruct=appstruct,
                          bind={'principals': self.principals})
        if isinstance(result, dict):
            posts = self.principals.posts
            result.update(
                title=user.name, login=user.login, active=user.active,
                posts=[(display_title(posts[p], request), request.route_url('admin_post', post_id=p))
                       for p in user.post_ids if p in posts],
                password_url=request.route_url('admin_user_password', login=user.login),
                devices=device_rows(
                    request, get_site(request).tokens.devices_of(user),
                    lambda d: request.route_url('admin_user_device_sign_out',
                                                login=user.login, id=d.id)),
                crumbs=crumbs(request, (_('Users'), request.route_url('admin_users'))))
        return result

    @view_config(route_name='admin_user_device_sign_out', request_method='POST')
    def sign_out_device(self):
        user = self._user()
        return sign_out(self.request, user,
                        self.request.route_url('admin_user', login=user.login))

    @view_config(route_name='admin_user_password', renderer='kp_workspace:templates/form.pt')
    def reset_password(self):
        request = self.request
        user = self._user()

        def save(data):
            self.principals.reset_password(actor_from_request(request), user, data['password'])
            return _('The password of ${login} has been reset; their sessions and tokens have ended.',
                     mapping={'login': user.login})

        result = run_form(request, PasswordSchema(), save, buttons=(_('Reset password'),),
                          success_url=request.route_url('admin_user', login=user.login))
        if isinstance(result, dict):
            result.update(
                title=self._title(_('Reset the password of ${name}', mapping={'name': user.name})),
                intro=self._title(_('Give the new password to the user in person. '
                                    'They can change it under "Password" after signing in.')),
                crumbs=crumbs(request, (_('Users'), request.route_url('admin_users')),
                              (user.name, request.route_url('admin_user', login=user.login))))
        return result
