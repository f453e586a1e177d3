"""The cabinet's pages and API: thin views over :mod:`kp_workspace.cabinet`.

Browser: ``/cabinet`` (the meetings one may see; for the Cabinet Wing the proposed
items waiting and a form to schedule a meeting), a meeting's page and its actions
(members, agenda, annexure, issue, decide, sign), its papers and minutes (PDF); the
public ``/public/cabinet/decisions``.  API: the same under ``/api/v1/cabinet/...`` and
``/api/v1/public/cabinet/decisions`` (no sign-in).
"""
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.view import view_config

from ..errors import DomainError
from ..i18n import display_title, format_when
from ..security.roles import CABINET
from ..signing import WrongPin, context_from_settings
from ..site import get_site
from ..views.api import api_config, json_body
from ..views.auditing import refused
from ..views.confirm import ask, confirmed
from ..views.errors import error_response
from ..views.layout import flash
from ..views.params import offset_and_limit
from ..views.signing import PUBLIC
from ..views.work import iso, officer_for, pdf_response
from . import (MEMBER_ROLE, STATES, add_annexure, call_members, check_prepare, classified,
               find_meeting, is_wing, issue_papers, keeps_secrets, may_prepare, meetings_for,
               minutes_pdf, papers_open, papers_pdf, public_decisions, record_decision,
               schedule, set_agenda, sign_minutes, signs_minutes, today, uses_cabinet,
               waiting_items)

_ = TranslationStringFactory('kp_workspace')
ACTIONS = ('members', 'agenda', 'annexure', 'issue', 'decide', 'sign')
SHOWN = 50


def _take(iterator, offset, limit):
    found = []
    for n, value in enumerate(iterator):
        if n < offset:
            continue
        if len(found) == limit:
            return found, True
        found.append(value)
    return found, False


def _names(site, logins):
    users = site['principals'].users
    return [{'login': x, 'name': users[x].name if x in users else x} for x in logins]


# --- what is shown -------------------------------------------------------------------------

def decision_json(site, decision):
    if decision is None:
        return None
    return {'text': decision.text, 'departments': list(decision.departments),
            'due': decision.due.isoformat(), 'public': decision.public,
            'sent': list(decision.sent)}


def meeting_json(request, meeting, full=True):
    """A meeting as the caller may see it: a secret meeting's agenda (subjects,
    decisions) only to those who may read its papers."""
    officer = officer_for(request)
    site = officer.site
    found = {'id': meeting.id, 'number': meeting.number, 'title': meeting.title,
             'date': meeting.date.isoformat(), 'place': meeting.place,
             'secret': meeting.secret, 'state': meeting.state,
             'papers_open': papers_open(officer, meeting),
             'issued_at': iso(meeting.issued_at), 'signed_at': iso(meeting.signed_at),
             'signed_by': meeting.signed_by}
    shown = found['papers_open']
    if shown:   # (a secret meeting before its date: its number, date and place only)
        found['items_count'] = len(meeting.items)
    if not full:
        return found
    found['members'] = _names(site, meeting.members) if shown else []
    found['items'] = [{'n': n, 'summary': item.summary_id, 'number': item.number,
                       'subject': item.subject, 'department': item.department,
                       'classification': item.classification,
                       'annexures': [{'title': a.title, 'pages': a.pages}
                                     for a in item.annexures],
                       'decision': decision_json(site, item.decision)}
                      for n, item in enumerate(meeting.items, 1)] if shown else []
    found['papers_pages'] = meeting.papers_pages if shown else 0
    found['minutes'] = meeting.minutes is not None and shown
    return found


def proposed_json(p):
    return {'summary': p.summary_id, 'number': p.number, 'subject': p.subject,
            'department': p.department, 'classification': p.classification,
            'proposed_at': iso(p.proposed_at), 'meeting': p.meeting}


def public_json(meeting, n, item, departments):
    d = item.decision
    return {'meeting': meeting.title, 'meeting_date': meeting.date.isoformat(),
            'item': n, 'subject': item.subject,
            'decision': d.text,
            'departments': [departments[x].title if x in departments else x
                            for x in d.departments],
            'due': d.due.isoformat(), 'minutes_signed_at': iso(meeting.signed_at)}


# --- browser: the meetings -------------------------------------------------------------------

@view_config(route_name='cabinet', permission=CABINET, request_method='GET',
             renderer='kp_workspace:cabinet/templates/meetings.pt')
def meetings_page(request):
    return _meetings_data(request)


def _user(request):
    """The signed-in user as an Officer, if they have business with the cabinet (403)."""
    officer = officer_for(request)
    if not uses_cabinet(officer):
        raise HTTPForbidden()
    return officer


def _meetings_data(request, error=None):
    officer = _user(request)
    site = officer.site
    translate = request.localizer.translate
    offset, _limit = offset_and_limit(request)
    found, more = _take(meetings_for(site, officer), offset, SHOWN)
    wing = is_wing(officer)
    return {
        'title': translate(_('Cabinet')), 'error': error,
        'meetings': [{'title': m.title, 'url': request.route_url('cabinet_meeting', meeting=m.id),
                      'date': format_when(request, m.date, time=False), 'place': m.place,
                      'secret': m.secret, 'state': translate(STATES[m.state]),
                      'items': len(m.items) if papers_open(officer, m) else '—'}
                     for m in found],
        'next_url': request.route_url('cabinet', _query={'offset': offset + SHOWN})
        if more else None,
        'proposed': [proposed_json(p) for p in waiting_items(site, officer)] if wing else [],
        'may_schedule': may_prepare(officer),
        'may_secret': keeps_secrets(officer),
        'schedule_url': request.route_url('cabinet_meetings'),
        'public_url': request.route_url('public_cabinet_decisions'),
    }


def _page_with_error(request, err, template, data):
    message = refused(request, err)
    status = request.response.status
    response = render_to_response(f'kp_workspace:cabinet/templates/{template}',
                                  data(request, error=message), request=request,
                                  response=request.response)
    response.status = status
    return response


@view_config(route_name='cabinet_meetings', permission=CABINET, request_method='POST')
def schedule_from_page(request):
    officer = officer_for(request)
    try:
        meeting = schedule(officer.site, officer, request.POST.get('date', ''),
                           request.POST.get('place', ''), request.POST.get('secret') == '1')
    except DomainError as err:
        return _page_with_error(request, err, 'meetings.pt', _meetings_data)
    flash(request, _('${title} scheduled. Call its members and set its agenda next.',
                     mapping={'title': meeting.title}))
    return HTTPSeeOther(request.route_url('cabinet_meeting', meeting=meeting.id))


# --- browser: a meeting ------------------------------------------------------------------------

def _meeting(request):
    officer = officer_for(request)
    return find_meeting(officer.site, officer, request.matchdict['meeting'])


@view_config(route_name='cabinet_meeting', permission=CABINET,
             renderer='kp_workspace:cabinet/templates/meeting.pt')
def meeting_page(request):
    return _meeting_data(request)


def _meeting_data(request, error=None):
    meeting = _meeting(request)
    officer = officer_for(request)
    site = officer.site
    translate = request.localizer.translate
    data = meeting_json(request, meeting)
    prepare = may_prepare(officer, meeting)
    scheduled = meeting.state == 'scheduled'
    action = (lambda a: request.route_url('cabinet_meeting_action', meeting=meeting.id,
                                          action=a))
    members = []
    if prepare and scheduled:
        members = [{'login': u.login, 'name': u.name, 'called': u.login in meeting.members}
                   for u in site['principals'].users.values()
                   if MEMBER_ROLE in u.roles and u.active]
    proposed = []
    if prepare and scheduled:
        on = [item.summary_id for item in meeting.items]
        # (a classified summary goes only on a secret meeting's agenda)
        proposed = [proposed_json(p) for p in waiting_items(site, officer)
                    if meeting.secret or not classified(p)] + [
            {'summary': i.summary_id, 'number': i.number, 'subject': i.subject,
             'department': i.department, 'classification': i.classification}
            for i in meeting.items]
        for p in proposed:
            p['position'] = on.index(p['summary']) + 1 if p['summary'] in on else ''
    departments = [(name, d.title) for name, d in site['departments'].items()]

    def named(name):   # (a department's name in the page's language, not its id)
        dept = site['departments'].get(name)
        return display_title(dept, request) if dept is not None else name
    for row, item in zip(data.get('items', ()), meeting.items):
        row['department_title'] = named(item.department)
        if row.get('decision'):
            row['decision']['departments_text'] = ', '.join(
                named(d) for d in item.decision.departments)
            row['decision']['due_text'] = format_when(request, item.decision.due, time=False)
    return {
        **data, 'error': error, 'cabinet_url': request.route_url('cabinet'),
        'date_text': format_when(request, meeting.date, time=False),
        'state_title': translate(STATES[meeting.state]),
        'papers_url': request.route_url('cabinet_papers', meeting=meeting.id)
        if meeting.papers is not None and data['papers_open'] else None,
        'minutes_url': request.route_url('cabinet_minutes', meeting=meeting.id)
        if data['minutes'] else None,
        'prepare': prepare and scheduled, 'candidates': members, 'proposed': proposed,
        # (decisions once the meeting has met; the minutes once every item has one)
        'decide': prepare and meeting.state == 'issued' and data['papers_open']
        and today() >= meeting.date,
        'sign': signs_minutes(officer) and meeting.state == 'issued'
        and all(item.decision is not None for item in meeting.items),
        'sign_waiting': signs_minutes(officer) and meeting.state == 'issued'
        and any(item.decision is None for item in meeting.items),
        'departments': departments,
        'action': {a: action(a) for a in ACTIONS},
    }


def _int(value, field):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        raise DomainError(_('"${name}" must be a whole number.', mapping={'name': field}),
                          field=field)


def run_action(request, meeting, action, body, form=False):
    officer = officer_for(request)
    site = officer.site
    if action == 'members':
        return call_members(site, officer, meeting, body.get('members'))
    if action == 'agenda':
        return set_agenda(site, officer, meeting, body.get('items'))
    if action == 'issue':
        return issue_papers(site, officer, meeting)
    if action == 'decide':
        public = body.get('public', False)
        if form:
            public = public == '1'
        # (the item's number is checked in the domain: after who may, so a role that may
        # not gets 403 whatever it sends)
        return record_decision(site, officer, meeting, body.get('item'),
                               body.get('text'), body.get('departments'), body.get('due'),
                               public)
    if action == 'sign':
        return sign_minutes(site, officer, meeting, body.get('pin'),
                            context_from_settings(request.registry.kpw_settings))
    raise HTTPNotFound()


def _agenda_from_form(post):
    """The agenda's summary ids, ordered by the positions typed (blank: left out)."""
    chosen = []
    for summary_id in post.getall('summary'):
        raw = post.get(f'position-{summary_id}', '').strip()
        if raw:
            chosen.append((_int(raw, 'position'), summary_id))
    return [s for _p, s in sorted(chosen)]


DONE = {'members': _('The members called are saved.'),
        'agenda': _('The agenda is saved.'),
        'annexure': _('The annexure is added.'),
        'issue': _('The papers are issued: the agenda and the members are final.'),
        'decide': _('The decision is recorded.'),
        'sign': _('The minutes are signed; the decisions are sent to the departments.')}


@view_config(route_name='cabinet_meeting_action', permission=CABINET, request_method='POST')
def action_from_page(request):
    meeting = _meeting(request)
    action = request.matchdict['action']
    if action not in ACTIONS:
        raise HTTPNotFound()
    post = request.POST
    try:
        if action == 'issue' and not confirmed(request):
            check_prepare(officer_for(request), meeting)   # (403 or 409 before asking)
            return ask(request, request.localizer.translate(_(
                'Issue the papers of ${title}? They are compiled into one PDF for the members '
                'called, and the agenda and the members called cannot change after.',
                mapping={'title': meeting.title})), _('Yes, issue the papers'),
                request.route_url('cabinet_meeting', meeting=meeting.id))
        if action == 'annexure':
            upload = post.get('file')
            if not hasattr(upload, 'file'):
                raise DomainError(_('Choose a PDF to add.'), field='file')
            officer = officer_for(request)
            add_annexure(officer.site, officer, meeting, post.get('item'),
                         upload.file, upload.filename, post.get('title', ''))
        else:
            body = {'members': post.getall('members'), 'items': _agenda_from_form(post)
                    if action == 'agenda' else None,
                    'item': post.get('item'), 'text': post.get('text'),
                    'departments': post.getall('departments'), 'due': post.get('due'),
                    'public': post.get('public', ''), 'pin': post.get('pin')}
            run_action(request, meeting, action, body, form=True)
    except DomainError as err:
        return _page_with_error(request, err, 'meeting.pt', _meeting_data)
    flash(request, DONE[action])
    return HTTPSeeOther(request.route_url('cabinet_meeting', meeting=meeting.id))


@view_config(route_name='cabinet_papers', permission=CABINET, request_method='GET')
@view_config(**api_config(route_name='api_cabinet_papers', permission=CABINET,
                          request_method='GET'))
def papers(request):
    meeting = _meeting(request)
    officer = officer_for(request)
    return pdf_response(request, papers_pdf(officer.site, officer, meeting),
                        f'cabinet-meeting-{meeting.number}-papers.pdf')


@view_config(route_name='cabinet_minutes', permission=CABINET, request_method='GET')
@view_config(**api_config(route_name='api_cabinet_minutes', permission=CABINET,
                          request_method='GET'))
def minutes(request):
    meeting = _meeting(request)
    officer = officer_for(request)
    return pdf_response(request, minutes_pdf(officer.site, officer, meeting),
                        f'cabinet-meeting-{meeting.number}-minutes.pdf')


# --- public ------------------------------------------------------------------------------------

@view_config(route_name='public_cabinet_decisions', permission=PUBLIC,
             renderer='kp_workspace:cabinet/templates/public.pt')
def public_page(request):
    site = get_site(request)
    offset, _limit = offset_and_limit(request)
    found, more = public_decisions(site, offset, SHOWN)
    departments = site['departments']
    return {'rows': [public_json(m, n, item, departments) for m, n, item in found],
            'next_url': request.route_url('public_cabinet_decisions',
                                          _query={'offset': offset + SHOWN}) if more else None}


@view_config(**api_config(route_name='api_public_cabinet_decisions', request_method='GET',
                          permission=PUBLIC))
def api_public(request):
    site = get_site(request)
    offset, limit = offset_and_limit(request)
    found, more = public_decisions(site, offset, limit)
    departments = site['departments']
    return {'items': [public_json(m, n, item, departments) for m, n, item in found],
            'more': more}


# --- API -------------------------------------------------------------------------------------------

@view_config(**api_config(route_name='api_cabinet_meetings', request_method='GET',
                          permission=CABINET))
def api_meetings(request):
    officer = _user(request)
    offset, limit = offset_and_limit(request)
    found, more = _take(meetings_for(officer.site, officer), offset, limit)
    return {'items': [meeting_json(request, m, full=False) for m in found], 'more': more}


@view_config(**api_config(route_name='api_cabinet_meetings', request_method='POST',
                          permission=CABINET))
def api_schedule(request):
    officer = officer_for(request)
    body = json_body(request)
    meeting = schedule(officer.site, officer, body.get('date'), body.get('place'),
                       body.get('secret') is True)
    request.response.status = 201
    return meeting_json(request, meeting)


@view_config(**api_config(route_name='api_cabinet_meeting', request_method='GET',
                          permission=CABINET))
def api_meeting(request):
    return meeting_json(request, _meeting(request))


@view_config(**api_config(route_name='api_cabinet_meeting_action', request_method='POST',
                          permission=CABINET))
def api_meeting_action(request):
    meeting = _meeting(request)
    action = request.matchdict['action']
    if action not in ACTIONS or action == 'annexure':
        raise HTTPNotFound()
    body = json_body(request) if request.body else {}
    try:
        run_action(request, meeting, action, body)
    except WrongPin as err:   # returned, not raised: the failed attempt is committed
        return error_response(request, err.status, err.message)
    return meeting_json(request, meeting)


@view_config(**api_config(route_name='api_cabinet_proposed', request_method='GET',
                          permission=CABINET))
def api_proposed(request):
    officer = officer_for(request)
    return {'items': [proposed_json(p) for p in waiting_items(officer.site, officer)]}
