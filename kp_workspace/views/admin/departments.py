"""Administration of departments and of the roles granted inside each."""
import colander
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config, view_defaults

from ...audit import actor_from_request
from ...content_types.department import (DepartmentSchema, add_department, grant_local_role,
                                         update_department)
from ...errors import DomainError
from ...i18n import display_title
from ...security.roles import MANAGE_DEPARTMENTS, MANAGE_ROLES, ROLES, ROLES_BY_NAME
from ...site import get_site
from ..forms import CSRFSchema, make_form, run_form
from ..auditing import refused
from ..layout import flash
from . import crumbs

_ = TranslationStringFactory('kp_workspace')


class DepartmentEditSchema(CSRFSchema, DepartmentSchema):
    pass


class DepartmentAddSchema(DepartmentEditSchema):
    name = colander.SchemaNode(colander.String(), title=_('Identifier'), insert_before='title',
                               description=_('Lower-case, used in addresses, e.g. finance; cannot change later.'))


@view_defaults(permission=MANAGE_DEPARTMENTS)
class DepartmentAdmin:
    def __init__(self, context, request):
        self.request = request
        site = get_site(request)
        self.departments = site['departments']
        self.principals = site['principals']

    def _department(self):
        dept = self.departments.get(self.request.matchdict['name'])
        if dept is None:
            raise HTTPNotFound()
        return dept

    @view_config(route_name='admin_departments',
                 renderer='kp_workspace:templates/admin/departments.pt')
    def list(self):
        request = self.request
        return {
            'crumbs': crumbs(request),
            'rows': [{'title': d.title, 'title_ur': d.title_ur, 'code': d.code,
                      'url': request.route_url('admin_department', name=d.__name__)}
                     for d in self.departments.values()],
            'add_url': request.route_url('admin_department_add'),
        }

    @view_config(route_name='admin_department_add', renderer='kp_workspace:templates/form.pt')
    def add(self):
        request = self.request

        def save(data):
            dept = add_department(self.departments, actor_from_request(request), data['name'],
                                  data['title'], data['code'], data['title_ur'])
            flash(request, _('Department ${title} created.', mapping={'title': dept.title}))
            return HTTPSeeOther(request.route_url('admin_department', name=dept.__name__))

        result = run_form(request, DepartmentAddSchema(), save, buttons=(_('Create department'),))
        if isinstance(result, dict):
            result.update(title=request.localizer.translate(_('New department')),
                          crumbs=crumbs(request, (_('Departments'),
                                                  request.route_url('admin_departments'))))
        return result

    def _page(self, dept, form_html, error=None):
        request = self.request
        translate = request.localizer.translate
        grants = []
        for principal, roles in dept.local_roles.items():
            for role in roles:
                grants.append((principal, translate(ROLES_BY_NAME[role].title), role))
        return {
            'title': display_title(dept, request), 'code': dept.code, 'form': form_html, 'error': error,
            'grants': grants, 'roles': [(r.name, translate(r.title)) for r in ROLES],
            'can_grant': request.has_permission(MANAGE_ROLES, request.root),
            'action': request.route_url('admin_department', name=dept.__name__),
            'crumbs': crumbs(request, (_('Departments'), request.route_url('admin_departments'))),
        }

    def _edit_form(self, dept):
        return make_form(self.request, DepartmentEditSchema(), (_('Save'),)).render(
            {'title': dept.title, 'title_ur': dept.title_ur, 'code': dept.code})

    @view_config(route_name='admin_department', renderer='kp_workspace:templates/admin/department.pt')
    def edit(self):
        request = self.request
        dept = self._department()

        def save(data):
            changes = update_department(dept, actor_from_request(request), data['title'],
                                        data['code'], data['title_ur'])
            return _('Saved.') if changes else _('Nothing changed.')

        appstruct = {'title': dept.title, 'title_ur': dept.title_ur, 'code': dept.code}
        result = run_form(request, DepartmentEditSchema(), save, appstruct=appstruct)
        if isinstance(result, dict):
            return self._page(dept, result['form'])
        return result

    @view_config(route_name='admin_department', request_method='POST', request_param='op',
                 permission=MANAGE_ROLES, renderer='kp_workspace:templates/admin/department.pt')
    def local_roles(self):
        """Grant or withdraw a department role (plain forms, field ``op``: grant / withdraw)."""
        request = self.request
        dept = self._department()
        granted = request.POST['op'] == 'grant'
        try:
            changed = grant_local_role(actor_from_request(request), self.principals, dept,
                                       request.POST.get('principal', '').strip(),
                                       request.POST.get('role', ''), granted)
        except DomainError as err:
            return self._page(dept, self._edit_form(dept), error=refused(request, err))
        if changed:
            flash(request, _('Role granted.') if granted else _('Role withdrawn.'))
        else:
            flash(request, _('Nothing changed.'))
        return HTTPSeeOther(request.route_url('admin_department', name=dept.__name__))
