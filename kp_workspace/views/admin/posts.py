"""Administration of posts: create, rename, set roles, assign, relieve and transfer holders."""
import colander
import deform
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config, view_defaults

from ...audit import actor_from_request
from ...errors import DomainError
from ...i18n import display_title, isolated
from ...security.roles import MANAGE_POSTS, ROLES
from ...site import get_site
from ..forms import CSRFSchema, make_form, run_form
from ..auditing import refused
from ..confirm import ask, confirmed
from ..layout import flash
from . import PAGE_SIZE, crumbs

_ = TranslationStringFactory('kp_workspace')

# the operations on a post's holders that are asked before they are done: (question, button)
CONFIRM = {
    'relieve': (_('Relieve ${name} (${login}) of the post ${post}? They will no longer see '
                  'or act on the files that wait with it; the files stay with the post.'),
                _('Yes, relieve')),
    'transfer': (_('Transfer the post ${post} to ${name} (${login})? Everyone who holds it now '
                   'is relieved of it, and its files, waiting ones included, go to ${name}.'),
                 _('Yes, transfer the post')),
}


@colander.deferred
def _department_widget(node, kw):
    return deform.widget.SelectWidget(
        values=[('', '')] + [(d.__name__, display_title(d, kw['request']))
                              for d in kw['departments'].values()])


class PostEditSchema(CSRFSchema):
    title = colander.SchemaNode(colander.String(), title=_('Designation'),
                                description=_('e.g. Section Officer (Budget), Finance'),
                                validator=colander.Length(min=2, max=120))
    title_ur = colander.SchemaNode(colander.String(), title=_('Designation in Urdu'),
                                   description=_('Optional; shown on Urdu pages.'),
                                   missing='', validator=colander.Length(max=120))
    roles = colander.SchemaNode(
        colander.Set(), title=_('Roles in its department'), missing=(),
        widget=deform.widget.CheckboxChoiceWidget(values=[(r.name, r.title) for r in ROLES]))


class PostAddSchema(PostEditSchema):
    post_id = colander.SchemaNode(colander.String(), title=_('Identifier'), insert_before='title',
                                  description=_('Lower-case, e.g. so-budget-finance; cannot change later.'))
    department = colander.SchemaNode(colander.String(), title=_('Department'),
                                     insert_before='roles', widget=_department_widget)


@view_defaults(permission=MANAGE_POSTS)
class PostAdmin:
    def __init__(self, context, request):
        self.request = request
        site = get_site(request)
        self.principals = site['principals']
        self.departments = site['departments']

    def _post(self):
        post = self.principals.posts.get(self.request.matchdict['post_id'])
        if post is None:
            raise HTTPNotFound()
        return post

    def _department_title(self, name):
        dept = self.departments.get(name)
        return display_title(dept, self.request) if dept is not None else name

    @view_config(route_name='admin_posts', renderer='kp_workspace:templates/admin/posts.pt')
    def list(self):
        request = self.request
        posts, next_after = self.principals.posts.page(request.params.get('after'), PAGE_SIZE)
        users = self.principals.users
        rows = [{
            'title': display_title(p, request), 'post_id': p.post_id,
            'department': self._department_title(p.department),
            'holders': ', '.join(users[h].name for h in p.holders if h in users),
            'url': request.route_url('admin_post', post_id=p.post_id),
        } for p in posts]
        return {
            'crumbs': crumbs(request), 'rows': rows, 'total': len(self.principals.posts),
            'next_url': request.route_url('admin_posts', _query={'after': next_after})
            if next_after else None,
            'add_url': request.route_url('admin_post_add'),
        }

    @view_config(route_name='admin_post_add', renderer='kp_workspace:templates/form.pt')
    def add(self):
        request = self.request

        def save(data):
            post = self.principals.add_post(actor_from_request(request), self.departments,
                                            data['post_id'], data['title'], data['department'],
                                            data['roles'], data['title_ur'])
            flash(request, _('Post ${title} created.', mapping={'title': post.title}))
            return HTTPSeeOther(request.route_url('admin_post', post_id=post.post_id))

        result = run_form(request, PostAddSchema(), save, buttons=(_('Create post'),),
                          bind={'departments': self.departments})
        if isinstance(result, dict):
            result.update(title=request.localizer.translate(_('New post')),
                          crumbs=crumbs(request, (_('Posts'), request.route_url('admin_posts'))))
        return result

    def _page(self, post, form_html, error=None):
        request = self.request
        return {
            'title': display_title(post, request), 'post_id': post.post_id,
            'department': self._department_title(post.department),
            'holders': [(u.name, u.login, request.route_url('admin_user', login=u.login))
                        for u in self.principals.holders(post)],
            'form': form_html, 'error': error,
            'action': request.route_url('admin_post', post_id=post.post_id),
            'crumbs': crumbs(request, (_('Posts'), request.route_url('admin_posts'))),
        }

    @view_config(route_name='admin_post', renderer='kp_workspace:templates/admin/post.pt')
    def edit(self):
        request = self.request
        post = self._post()
        dept = self.departments.get(post.department)
        appstruct = {'title': post.title, 'title_ur': post.title_ur,
                     'roles': set(dept.roles_of(post.principal)) if dept else set()}

        def save(data):
            changes = self.principals.update_post(actor_from_request(request), self.departments,
                                                  post, data['title'], data['roles'],
                                                  data['title_ur'])
            return _('Saved.') if changes else _('Nothing changed.')

        result = run_form(request, PostEditSchema(), save, appstruct=appstruct)
        if isinstance(result, dict):
            return self._page(post, result['form'])
        return result

    @view_config(route_name='admin_post', request_method='POST', request_param='op',
                 renderer='kp_workspace:templates/admin/post.pt')
    def holders(self):
        """Assign, relieve or transfer (plain forms on the post page, field ``op``)."""
        request = self.request
        post = self._post()
        op = request.POST['op']
        actor = actor_from_request(request)
        try:
            user = self.principals.user(request.POST.get('login', ''))
            if op in CONFIRM and not confirmed(request):
                # what would be refused is refused now, not after a yes
                checks = {'relieve': self.principals.check_relieve,
                          'transfer': self.principals.check_transfer}
                checks[op](actor, post, user)
                question, button = CONFIRM[op]
                # (right to left, the names are isolated: they are often in English)
                keep = isolated if request.locale_name == 'ur' else str
                return ask(request, request.localizer.translate(_(question, mapping={
                    'name': keep(user.name), 'login': keep(user.login),
                    'post': keep(display_title(post, request))})), button,
                    request.route_url('admin_post', post_id=post.post_id))
            if op == 'assign':
                self.principals.assign(actor, post, user)
                message = _('${name} now holds this post.', mapping={'name': user.name})
            elif op == 'relieve':
                self.principals.relieve(actor, post, user)
                message = _('${name} has been relieved of this post.', mapping={'name': user.name})
            elif op == 'transfer':
                self.principals.transfer(actor, post, user)
                message = _('The post has been transferred to ${name}; its files go with it.',
                            mapping={'name': user.name})
            else:
                raise HTTPBadRequest()
        except DomainError as err:
            message = refused(request, err)
            form = make_form(request, PostEditSchema(), (_('Save'),))
            dept = self.departments.get(post.department)
            html = form.render({'title': post.title, 'title_ur': post.title_ur,
                                'roles': set(dept.roles_of(post.principal)) if dept else set()})
            return self._page(post, html, error=message)
        flash(request, message)
        return HTTPSeeOther(request.route_url('admin_post', post_id=post.post_id))
