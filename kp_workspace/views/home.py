"""The home page: who I am, my posts, what waits on my desk, where I can go."""
import datetime

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from pyramid.i18n import TranslationStringFactory

from ..i18n import display_title
from ..lists import DAY, at_a_glance
from ..recordroom import may_enter as may_enter_record_room
from ..security.roles import ACCOUNT, APPROVE, DRAFT, OPEN_FILE, ROLES_BY_NAME, VIEW
from ..site import get_site
from .layout import admin_sections
from .work import desk_row, now_ts, officer_for

_ = TranslationStringFactory('kp_workspace')


class PostRow:
    def __init__(self, title, department, roles):
        self.title, self.department, self.roles = title, department, roles


def role_titles(request, names):
    translate = request.localizer.translate
    return ', '.join(translate(ROLES_BY_NAME[n].title) for n in names if n in ROLES_BY_NAME)


@view_config(route_name='home', permission=ACCOUNT, renderer='kp_workspace:templates/home.pt')
def home(request):
    if not request.has_permission(VIEW, request.root):
        # a member of the cabinet: the cabinet's pages are all they may open
        return HTTPSeeOther(request.route_url('cabinet'))
    identity = request.identity
    site = get_site(request)
    principals, departments = site['principals'], site['departments']
    rows = []
    translate = request.localizer.translate
    officer = officer_for(request)
    for post_id in officer.post_ids:
        post = principals.posts.get(post_id)
        if post is None:
            continue
        dept = departments.get(post.department)
        title = display_title(post, request)
        if officer.acts_for(post_id):
            title = translate(_('${post} (acting charge)', mapping={'post': title}))
        rows.append(PostRow(title, display_title(dept, request) if dept else post.department,
                            role_titles(request, dept.roles_of(post.principal) if dept else ())))
    work = []
    for name, dept in departments.items():
        links = []
        if officer.posts_with(OPEN_FILE, name):
            links.append((translate(_('Open a new file')),
                          request.route_url('department_new_file', name=name)))
        if officer.posts_with(DRAFT, name):
            links.append((translate(_('Draft a summary')),
                          request.route_url('department_new_summary', name=name)))
        if officer.keeps_diary(name):
            links.append((translate(_('Register a letter')),
                          request.route_url('department_diary_new', name=name)))
            links.append((translate(_('Diary register')),
                          request.route_url('department_diary', name=name)))
        if officer.may_in_department(APPROVE, name):
            links.append((translate(_('Dashboard')), request.route_url('department', name=name)))
        if may_enter_record_room(officer, name):
            links.append((translate(_('Record room')),
                          request.route_url('department_records', name=name)))
        if links:
            work.append((display_title(dept, request), links))
    from ..implementation.views import glance
    return {
        'desk': _desk(request, officer),
        'implementation': glance(request),
        'work': work,
        'name': identity.user.name,
        'posts': rows, 'charges_url': request.route_url('charges'),
        'global_roles': role_titles(request, identity.user.roles),
        'admin_sections': [(translate(title), request.route_url(route))
                           for route, title in admin_sections(request)],
    }


def waited(seconds):
    """How long something has waited, in words an officer uses."""
    days = int(seconds // DAY)
    if days > 1:
        return _('${n} days', mapping={'n': days})
    if days == 1:
        return _('1 day')
    hours = int(seconds // 3600)
    if hours > 1:
        return _('${n} hours', mapping={'n': hours})
    return _('1 hour') if hours == 1 else _('less than an hour')


def _desk(request, officer):
    """Counts per list, each with its link, and what waits longest (None without posts)."""
    if not officer.post_ids:
        return None
    translate = request.localizer.translate
    now = now_ts()
    glance = at_a_glance(officer.site.desk, officer.post_ids,
                         request.registry.kpw_settings.overdue_days, now)
    box = officer.site.alerts.box(officer.login)

    def shown(count_more):
        count, more = count_more
        return f'{count}+' if more else str(count)
    counts = [(translate(title), value, request.route_url(route), key)
              for route, key, title, value in (
                  ('inbox', 'inbox', _('Inbox'), str(glance['held'])),
                  ('pending', 'pending', _('Pending'), str(glance['held'])),
                  ('overdue', 'overdue', _('Overdue'), shown(glance['overdue'])),
                  ('sent', 'sent', _('Sent'), shown(glance['sent'])),
                  ('parked', 'parked', _('Parked'), str(glance['parked'])),
                  ('receipts', 'receipts', _('Receipts'),
                   str(officer.site.desk.held_count(officer.post_ids, receipts=True))),
                  ('alerts', 'due', _('Due for follow-up'), str(glance['due'])),
                  ('alerts', 'alerts', _('Unread alerts'),
                   str(box.unread() if box is not None else 0)))]
    posts = officer.site['principals'].posts
    longest = []
    for r in glance['longest']:
        desk_row(request, r)
        post = posts.get(r['holder'])
        r['where'] = display_title(post, request) if post is not None else r['holder']
        received = datetime.datetime.fromisoformat(r['received_at']).timestamp()
        r['waited'] = translate(waited(now - received))
        longest.append(r)
    return {'counts': counts, 'longest': longest}
