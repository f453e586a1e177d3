"""What every page's frame shows, computed once per request for the templates.

Templates read ready values from ``chrome`` (set for .pt renderers only, so
JSON responses never touch the session).
"""
from pyramid.decorator import reify
from pyramid.events import BeforeRender
from pyramid.i18n import TranslationStringFactory

from ..i18n import LANGUAGES, text_direction
from ..security.roles import (MANAGE_DEPARTMENTS, MANAGE_POSTS, MANAGE_ROLES, MANAGE_USERS,
                              READ_ARCHIVE, REGISTER_RECEIPT, VIEW_AUDIT, permissions_of)

_ = TranslationStringFactory('kp_workspace')

ADMIN_SECTIONS = (
    ('admin_users', _('Users'), MANAGE_USERS),
    ('admin_posts', _('Posts'), MANAGE_POSTS),
    ('admin_groups', _('Groups'), MANAGE_USERS),
    ('admin_departments', _('Departments'), MANAGE_DEPARTMENTS),
    ('admin_roles', _('Roles'), MANAGE_ROLES),
    ('admin_audit', _('Audit log'), VIEW_AUDIT),
    ('admin_signing', _('Signing certificates'), MANAGE_USERS),
    ('charges', _('Acting charges'), MANAGE_POSTS),
)


def admin_sections(request):
    """The administration sections the user may open: ``[(route, title), ...]``."""
    site = request.root
    return [(route, title) for route, title, perm in ADMIN_SECTIONS
            if request.has_permission(perm, site)]


class Chrome:
    def __init__(self, request):
        self.request = request

    @reify
    def locale(self):
        return self.request.locale_name

    @reify
    def dir(self):
        return text_direction(self.locale)

    @reify
    def identity(self):
        return self.request.identity

    @reify
    def user_name(self):
        return self.identity.user.name if self.identity else None

    @reify
    def csrf_token(self):
        return self.request.session.get_csrf_token()

    @reify
    def diary_department(self):
        """The department whose diary the user keeps (the first by name), or None."""
        from .work import officer_for
        found = sorted(name for name, roles in officer_for(self.request).department_roles.items()
                       if REGISTER_RECEIPT in permissions_of(roles))
        return found[0] if found else None

    @reify
    def records_department(self):
        """The department whose record room the user keeps as its records clerk (the
        first by name), or None."""
        from .work import officer_for
        found = sorted(name for name, roles in officer_for(self.request).department_roles.items()
                       if READ_ARCHIVE in permissions_of(roles))
        return found[0] if found else None

    @reify
    def nav(self):
        """``[(title, url, current)]`` for the main navigation."""
        if self.identity is None:
            return []
        request = self.request
        route = request.matched_route.name if request.matched_route else ''
        from .work import officer_for
        from ..cabinet import uses_cabinet
        from ..security.roles import VIEW
        cabinet = (_('Cabinet'), request.route_url('cabinet'), route.startswith('cabinet'))
        if not request.has_permission(VIEW, request.root):
            # a member of the cabinet: the cabinet's pages and their own account only
            return [cabinet,
                    (_('My devices'), request.route_url('account_devices'),
                     route == 'account_devices'),
                    (_('Password'), request.route_url('account_password'),
                     route == 'account_password')]
        items = [(_('Home'), request.route_url('home'), route == 'home')]
        if uses_cabinet(officer_for(request)):
            items.append(cabinet)
        if officer_for(request).post_ids:   # (posts held acting too)
            items.append((_('Inbox'), request.route_url('inbox'),
                          route in ('inbox', 'sent', 'pending', 'overdue', 'receipts',
                                   'parked')))
        diary = self.diary_department
        if diary is not None:
            items.append((_('Diary'), request.route_url('department_diary', name=diary),
                          route.startswith('department_diary')))
        records = self.records_department
        if records is not None:
            items.append((_('Record room'), request.route_url('department_records',
                                                              name=records),
                          route.startswith('department_records')))
        if self.implementation_shown:
            items.append((_('Cabinet decisions'), request.route_url('implementation'),
                          route.startswith('implementation')))
        items.append((_('Search'), request.route_url('search'), route == 'search'))
        unread = self.unread_alerts
        items.append((_('Alerts (${n})', mapping={'n': unread}) if unread else _('Alerts'),
                      request.route_url('alerts'), route == 'alerts'))
        if admin_sections(request):
            items.append((_('Administration'), request.route_url('admin'),
                          route.startswith('admin')))
        from ..site import get_site
        if get_site(request).signing.current(self.identity.user.login) is not None:
            items.append((_('Signing'), request.route_url('account_signing'),
                          route == 'account_signing'))
        items.append((_('My devices'), request.route_url('account_devices'),
                      route == 'account_devices'))
        items.append((_('Password'), request.route_url('account_password'),
                      route == 'account_password'))
        return items

    @reify
    def implementation_shown(self):
        """Whether the navigation leads to the cabinet decisions: the user sees the
        implementation dashboard, or a department of theirs has decisions to implement."""
        from ..implementation import (departments_reporting, implementation_book,
                                      may_see_dashboard)
        from .work import officer_for
        officer = officer_for(self.request)
        book = implementation_book(officer.site)
        if book is None:
            return False
        return may_see_dashboard(officer) or any(
            book.listed_count(d) for d in departments_reporting(officer))

    @reify
    def unread_alerts(self):
        from ..site import get_site
        box = get_site(self.request).alerts.box(self.identity.user.login)
        return box.unread() if box is not None else 0

    @reify
    def languages(self):
        here = self.request.path_qs
        return [(code, name, self.request.route_url('set_language', code=code,
                                                    _query={'next': here}), code == self.locale)
                for code, name, _d in LANGUAGES]

    @reify
    def messages(self):
        """The messages flashed for this page, taken off the session.

        Only a page that has messages changes the session: a session that
        changes is sent back as a cookie, and a page that was under way while
        the user signed in (the favicon's, a second tab's) would otherwise send
        back the old, signed-out session after the new one, and sign them out.
        """
        session = self.request.session
        found = []
        for kind, queue in (('error', 'error'), ('info', '')):
            if session.peek_flash(queue):
                found.extend((kind, message) for message in session.pop_flash(queue))
        return found


def flash(request, message, queue=''):
    """Show ``message`` on the next page; translated now, since the session keeps plain text."""
    request.session.flash(request.localizer.translate(message), queue)


def add_chrome(event):
    name = event.get('renderer_name') or ''
    if name.endswith('.pt') and event.get('request') is not None:
        event['chrome'] = Chrome(event['request'])


def includeme(config):
    config.add_subscriber(add_chrome, BeforeRender)

