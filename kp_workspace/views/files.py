"""Browser pages for file work: desk lists, dashboards, files, summaries, alerts."""
from functools import partial
from html import escape

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.renderers import render_to_response
from pyramid.response import Response
from pyramid.view import view_config, view_defaults

from pyramid_retry import is_last_attempt

from ..alerts import read_alerts_about
from ..content_types.attachment import attach, in_order, too_large
from ..content_types.casefile import (CLASSIFICATION_TITLES, PRIORITY_TITLES, CaseFileSchema,
                                      open_file)
from ..content_types.movable import edit_note, post_title, write_note
from ..content_types.outgoing import KIND_TITLES, add_draft, edit_draft
from ..dispatch.pages import draft_panel
from ..content_types.summary import DECISION_TITLES, SummarySchema, initiate_summary
from ..errors import DomainError
from ..i18n import display_title, format_when
from ..lists import dashboard, follow_ups_due, inbox, overdue, parked, pending, sent
from ..ocr import failure_reason, status as ocr_status
from ..recordroom.views import record_class_choices, record_facts
from ..security.directory import post_directory
from ..security.roles import (APPROVE, ATTACH, DRAFT, OPEN_FILE, REGISTER_RECEIPT, VIEW,
                              WRITE_NOTE)
from ..site import get_site
from ..workflows.casefile import PLACES
from ..workflows.draft import DRAFT_WORKFLOW
from ..workflows.words import movement_title
from .auditing import read_item, refused
from ..charts import duration_words
from .charts import dashboard_charts, timeline
from . import followups as follow_up_pages
from .confirm import ask, confirmed
from .forms import CSRFSchema, run_form
from .layout import flash
from .params import note_number, whole_number
from .work import (WORKFLOWS, attachment_response, department_for, desk_row, item_for,
                   item_url, now_ts, officer_for, retry_reading, run_action, run_draft_action,
                   searchable_response)

_ = TranslationStringFactory('kp_workspace')

LISTS = {
    'inbox': (inbox, _('Inbox'), _('Files and summaries waiting with your posts, newest first.')),
    'pending': (pending, _('Pending'), _('What waits with your posts, longest waiting first.')),
    'overdue': (overdue, _('Overdue'),
                _('Waiting longer than allowed: immediate 1 day, urgent 3, routine 7.')),
    'sent': (sent, _('Sent'), _('What your posts sent, newest first, and where it is now.')),
    'parked': (parked, _('Parked'),
               _('Files awaiting a reply, soonest due first. Each comes back to the inbox, '
                 'due, on its date.')),
}
PAGE = 50


def _post_name(request, site, post_id, stored):
    """A post named in a note or a movement, as shown: the designation stored then (the
    record), on Urdu pages the post's Urdu designation when it has one; the record room
    (and the department's records) in the page's language."""
    if stored in PLACES and not post_id:
        return request.localizer.translate(PLACES[stored])
    if request.locale_name == 'ur':
        post = site['principals'].posts.get(post_id)
        if post is not None and post.title_ur:
            return post.title_ur
    return stored


def human_size(size):
    if size < 1024:
        return f'{size} B'
    if size < 1024 * 1024:
        return f'{size / 1024:.1f} KB'
    return f'{size / 1024 / 1024:.1f} MB'


def pages_label(pages):
    if not pages:
        return None
    return _('1 page') if pages == 1 else _('${n} pages', mapping={'n': pages})


def attachment_rows(request, item):
    """The correspondence list: each attachment with its flag, pages and links."""
    translate = request.localizer.translate
    rows = []
    for a in in_order(item):
        pages = pages_label(a.pages)
        rows.append({
            'id': a.id, 'flag': translate(_('Flag ${flag}', mapping={'flag': a.flag})),
            'title': a.title, 'filename': a.filename, 'type': a.content_type,
            'pages': translate(pages) if pages else None, 'size': human_size(a.size),
            'diary': a.diary_number, 'at': format_when(request, a.at), 'reading': a.reading,
            'url': request.route_url('file_attachment', id=item.id, att_id=a.id),
            'inline_url': request.route_url('file_attachment_inline', id=item.id, att_id=a.id),
            'read_url': request.route_url('file', id=item.id, _query={'read': a.id},
                                          _anchor='reading'),
            'ocr': ocr_row(request, item, a)})
    return rows


OCR_LABELS = {
    'waiting': _('Text recognition: waiting'),
    'reading': _('Text recognition: ${done} of ${pages} pages read'),
    'done': _('Text recognised: searchable'),
    'failed': _('The text could not be read: ${error}'),
}
OCR_REASONS = {
    'damaged': _('the scan is damaged, or is not an image.'),
    'too_large': _('a page is too large to read.'),
    'too_many_pages': _('it has too many pages.'),
    'too_slow': _('reading a page took too long.'),
    'failed': _('the text recognition failed.'),
}


def ocr_row(request, item, att):
    """What the correspondence list says of a scan's text recognition (None: not a scan):
    its state in words, the searchable copy once made, a retry once failed."""
    found = ocr_status(att)
    if found is None:
        return None
    translate = request.localizer.translate
    reason = OCR_REASONS.get(failure_reason(att), OCR_REASONS['failed'])
    label = _(OCR_LABELS[found['state']], mapping={
        'done': found['pages_done'], 'pages': found['pages'] or '?',
        'error': translate(reason)})
    return {'state': found['state'], 'label': translate(label),
            'searchable_url': request.route_url('file_attachment_searchable', id=item.id,
                                                att_id=att.id)
            if found['searchable_pdf'] else None,
            'retry_url': request.route_url('file_attachment_ocr', id=item.id, att_id=att.id)
            if found['state'] == 'failed' else None}


def reading_pane(request, item, rows):
    """The attachment the page's ``read`` value names, for the reading pane; None when
    none is asked for.  An unknown value gives a pane that says so (and a 404)."""
    wanted = request.GET.get('read')
    if wanted is None:
        return None
    found = next((r for r in rows if r['id'] == wanted), None)
    close_url = request.route_url('file', id=item.id)
    if found is None:
        request.response.status = 404
        return {'missing': True, 'close_url': close_url}
    return dict(found, missing=False, close_url=close_url)


@view_config(route_name='inbox', permission=VIEW, renderer='kp_workspace:templates/desk.pt')
@view_config(route_name='pending', permission=VIEW, renderer='kp_workspace:templates/desk.pt')
@view_config(route_name='overdue', permission=VIEW, renderer='kp_workspace:templates/desk.pt')
@view_config(route_name='sent', permission=VIEW, renderer='kp_workspace:templates/desk.pt')
@view_config(route_name='parked', permission=VIEW, renderer='kp_workspace:templates/desk.pt')
def desk_list(request):
    which = request.matched_route.name
    fn, title, intro = LISTS[which]
    offset = whole_number(request, 'offset', 0)
    officer = officer_for(request)
    rows, total, more, _next = fn(officer.site.desk, officer.post_ids,
                                  request.registry.kpw_settings.overdue_days, now_ts(),
                                  offset, PAGE)
    translate = request.localizer.translate
    posts = officer.site['principals'].posts
    for r in rows:
        desk_row(request, r)
        r['received'] = format_when(request, r.get('sent_at') or r['received_at'])
        if which == 'sent':
            r['where'] = where_now(request, posts, r)
            r['where_since'] = format_when(request, r['now_since'])
        if 'parked_until' in r:
            r['until'] = format_when(request, r['parked_until'], time=False)
    return {
        'title': translate(title), 'intro': translate(intro), 'which': which, 'rows': rows,
        # (column names again, for rows laid out one under another on a phone)
        'label_since': translate(_('Sent') if which == 'sent' else _('Since')),
        'label_where': translate(_('Where it is now')), 'label_days': translate(_('Days')),
        'label_until': translate(_('Until')), 'label_reason': translate(_('Awaiting')),
        'total': total, 'has_posts': bool(officer.post_ids),
        'tabs': [(name, translate(t), request.route_url(name), name == which)
                 for name, (_f, t, _i) in LISTS.items()]
        + [('receipts', translate(_('Receipts')), request.route_url('receipts'), False)],
        'next_url': request.route_url(which, _query={'offset': offset + PAGE}) if more else None,
        'prev_url': request.route_url(which, _query={'offset': max(0, offset - PAGE)})
        if offset else None,
    }


WHERE = {'closed': _('Closed (record room)'), 'filed': _('Filed'),
         'decided': _('Decided by the Chief Minister')}


def where_now(request, posts, row):
    """Where the item of a sent row is now, in words: closed, filed, decided, or the
    title of the post holding it."""
    if row['state'] in WHERE:
        return request.localizer.translate(WHERE[row['state']])
    post = posts.get(row['holder'])
    return display_title(post, request) if post is not None else row['holder']


@view_config(route_name='department', permission=VIEW,
             renderer='kp_workspace:templates/department.pt')
def department_dashboard(request):
    dept = department_for(request, APPROVE)
    overdue_days, now = request.registry.kpw_settings.overdue_days, now_ts()
    counts, posts = dashboard(get_site(request), dept.__name__, overdue_days, now)
    by_id = get_site(request)['principals'].posts
    for p in posts:
        p['title'] = display_title(by_id[p['id']], request)
        p['average_text'] = (request.localizer.translate(duration_words(p['average_seconds']))
                             if p['average_seconds'] is not None else None)
        p['stays_text'] = request.localizer.translate(
            _('1 move') if p['stays'] == 1 else _('${n} moves', mapping={'n': p['stays']}))
    return {'title': display_title(dept, request), 'counts': counts, 'posts': posts,
            'charts': dashboard_charts(request, dept, posts, overdue_days, now)}


@view_config(route_name='department_new_file', permission=VIEW,
             renderer='kp_workspace:templates/form.pt')
def new_file(request):
    dept = department_for(request, OPEN_FILE)
    officer = officer_for(request)

    def save(data):
        casefile = open_file(dept, officer, data['subject'], data['classification'],
                             data['priority'])
        flash(request, _('File ${number} opened.', mapping={'number': casefile.number}))
        return HTTPSeeOther(request.route_url('file', id=casefile.id))

    schema = CaseFileSchema().clone()
    schema.add(CSRFSchema()['csrf_token'].clone())
    result = run_form(request, schema, save, buttons=(_('Open file'),))
    if isinstance(result, dict):
        result['title'] = request.localizer.translate(
            _('Open a new file in ${department}', mapping={'department': display_title(dept, request)}))
    return result


@view_config(route_name='department_new_summary', permission=VIEW,
             renderer='kp_workspace:templates/form.pt')
def new_summary(request):
    dept = department_for(request, DRAFT)
    officer = officer_for(request)

    def save(data):
        summary = initiate_summary(dept, officer, data['subject'], data['background'],
                                   data['proposal'], data['decision_sought'],
                                   data['financial_implications'], data['classification'],
                                   data['priority'])
        flash(request, _('Summary ${number} drafted.', mapping={'number': summary.number}))
        return HTTPSeeOther(request.route_url('summary', id=summary.id))

    schema = SummarySchema().clone()
    schema.add(CSRFSchema()['csrf_token'].clone())
    result = run_form(request, schema, save, buttons=(_('Draft summary'),))
    if isinstance(result, dict):
        result['title'] = request.localizer.translate(
            _('Draft a summary in ${department}', mapping={'department': display_title(dept, request)}))
    return result


def post_choices(request, site, accepts):
    """What a step's post picker offers: the posts ``accepts(post)`` takes (``post``: a
    :class:`~kp_workspace.security.directory.PostEntry`), grouped by department title,
    departments and posts sorted by title, in the request's language, each group's
    ``<option>`` elements as HTML: ``[(department title, options), ...]``.

    From the post directory (made once, not for every page), with each post's option
    made once with it: a page only picks the options of the posts ``accepts`` takes."""
    directory = post_directory(site['principals'], site['departments'], request.locale_name)
    options = directory.derived('options', lambda d: {
        e.post_id: f'<option value="{escape(e.post_id)}">{escape(e.title, quote=False)}</option>'
        for _title, entries in d.groups for e in entries})
    # (a department whose posts are all taken, as most are, is one string made once)
    whole = directory.derived('groups', lambda d: {
        title: (len(entries), '\n'.join(options[e.post_id] for e in entries))
        for title, entries in d.groups})
    return [(title, whole[title][1] if len(taken) == whole[title][0]
             else '\n'.join(options[e.post_id] for e in taken))
            for title, taken in directory.choices(accepts)]


def _actions(request, item, workflow, officer, url):
    """What ``officer`` may do to ``item`` now, most likely first: ``[{name, title, rank,
    needs, url, posts, pin}]`` (``posts``: the choices of its post picker, if it has one,
    see :func:`post_choices`; ``pin``: ask for the signing PIN on this form, not on a
    confirmation page)."""
    translate = request.localizer.translate
    found = [{'name': t.name, 'title': translate(t.title), 'rank': t.rank, 'needs': t.needs,
              'url': url(t.name), 'primary': False, 'secondary': t.rank <= 0,
              'pin': 'pin' in t.needs and t.confirm is None,
              'posts': post_choices(request, officer.site, partial(t.accepts, item, officer))
              if t.accepts is not None else []}
             for t in workflow.available(item, officer)]
    return sorted(found, key=lambda a: -a['rank'])


def _mark_primary(*lists):
    """Make the highest-ranked action of all ``lists`` (if its rank is positive) primary.
    :returns: the list that holds it, or None."""
    best = max(((a['rank'], i) for i, actions in enumerate(lists) for a in actions[:1]),
               default=(0, None))
    if best[0] <= 0:
        return None
    lists[best[1]][0]['primary'] = True
    return lists[best[1]]


def movement_rows(request, site, item):
    """The movement register of ``item`` as its page shows it."""
    translate = request.localizer.translate
    rows = []
    for m in item.movements:
        sender = _post_name(request, site, m.from_post, m.from_title)
        rows.append({'at': format_when(request, m.at),
                     'action': translate(movement_title(m.action)), 'sender': sender,
                     'receiver': _post_name(request, site, m.to_post, m.to_title),
                     'remarks': m.remarks,
                     'by': acting_by(request, sender, m.by_name) if m.acting else m.by_name})
    return rows


def acting_by(request, post, name):
    """Who wrote a note or moved a file for ``post`` on its charge, in words."""
    return request.localizer.translate(_('for ${post}, by ${name} (acting)',
                                         mapping={'post': post, 'name': name}))


def _page(request, item):
    """Everything a file or summary page shows, ready for the template."""
    officer = officer_for(request)
    translate = request.localizer.translate
    workflow = WORKFLOWS[item.kind]
    site = officer.site
    holder = site['principals'].posts.get(item.holder)
    holds = officer.holds(item.holder) and not item.is_final()
    route = 'file' if item.kind == 'file' else 'summary'
    # which forms to offer (the domain checks again: these only spare a refusal)
    may = {name: holds and officer.may(permission, item)
           for name, permission in (('note', WRITE_NOTE), ('attach', ATTACH), ('draft', DRAFT),
                                    ('receipt', REGISTER_RECEIPT))}
    data = {
        'item': item, 'kind': item.kind, 'holds': holds, 'may': may,
        'holder_title': display_title(holder, request) if holder is not None else item.holder,
        'state_title': translate(workflow.states[item.state]),
        'classification': translate(CLASSIFICATION_TITLES[item.classification]),
        'priority': translate(_('Priority: ${priority}', mapping={
            'priority': translate(PRIORITY_TITLES[item.priority])})),
        'notes': [{'n': n.n, 'text': n.text,
                   'author': acting_by(request, _post_name(request, site, n.post_id,
                                                           n.post_title), n.author_name)
                   if n.acting else n.author_name,
                   'post': '' if n.acting else _post_name(request, site, n.post_id,
                                                          n.post_title),
                   'at': format_when(request, n.at),
                   'edited': format_when(request, n.edited_at) if n.edited_at else '',
                   'editable': n.author == officer.login and not item.is_frozen(n) and holds,
                   'edit_url': request.route_url('file_note_edit', id=item.id, n=n.n)}
                  for n in item.notes.values()],
        'movements': movement_rows(request, site, item),
        'timeline': timeline(request, item,
                             lambda post_id, stored: _post_name(
                                 request, site, post_id, stored or post_title(site, post_id))),
        'actions': _actions(request, item, workflow, officer,
                            lambda name: request.route_url(f'{route}_action', id=item.id,
                                                           action=name)),
        'note_url': request.route_url(f'{route}_notes', id=item.id),
        'decisions': list((k, translate(v)) for k, v in DECISION_TITLES.items()),
        'follow_up': follow_up_pages.follow_up_data(request, officer, item, holds),
        'record_classes': record_class_choices(request),
        'record': record_facts(request, officer, item) if item.kind == 'file' else None,
    }
    if item.kind == 'file':
        data['attachments'] = attachment_rows(request, item)
        data['reading'] = reading_pane(request, item, data['attachments'])
        data['drafts'] = [
            {'id': d.id, 'kind': translate(KIND_TITLES[d.kind]), 'subject': d.subject,
             'body': d.body, 'state': translate(DRAFT_WORKFLOW.states[d.state]),
             'number': d.number, 'dated': format_when(request, d.dated_at) if d.dated_at else '',
             'signed': ', '.join(f'{name} ({post})' for _l, name, post, _a in d.signatures),
             'pdf_url': request.route_url('file_draft_pdf', id=item.id, draft=d.id),
             'pdf_label': translate(_('Signed PDF') if d.pdf is not None else _('Preview PDF')),
             'dispatch': draft_panel(request, officer, item, d),
             'actions': _actions(request, d, DRAFT_WORKFLOW, officer,
                                 lambda name, d=d: request.route_url(
                                     'file_draft_action', id=item.id, draft=d.id, action=name))}
            for d in item.drafts.values()]
        # a draft waiting for this user comes first, above the noting sheet
        found = _mark_primary(data['actions'], *[d['actions'] for d in data['drafts']])
        data['drafts_first'] = found is not None and found is not data['actions']
        data['draft_kinds'] = [(k, translate(v)) for k, v in KIND_TITLES.items()]
        data['attach_url'] = request.route_url('file_attachments', id=item.id)
        data['draft_url'] = request.route_url('file_drafts', id=item.id)
        limit = request.registry.kpw_settings.upload_limit
        data['limit_mb'] = limit >> 20
        data['upload_limit'] = limit
        data['too_large'] = translate(too_large(limit).message)
        data['implements'] = _linked(request, officer, item.implements)
    else:
        _mark_primary(data['actions'])
        data['decision'] = translate(DECISION_TITLES[item.decision]) if item.decision else None
        data['implementing_file'] = _linked(request, officer, item.implementing_file)
        data['filed_on'] = format_when(request, item.filed_at) if item.filed_at else ''
    return data


def _linked(request, officer, item_id):
    """``{'number', 'url'}`` of the linked file or summary ``item_id`` (None if there is
    none); ``url`` is None when the user may not open it."""
    if not item_id:
        return None
    other = officer.site.desk.items.get(item_id)
    if other is None:
        return None
    url = item_url(request, other.kind, other.id) if officer.can_view(other) else None
    return {'number': other.number, 'url': url}


def _render_error(request, item, err, template):
    message = refused(request, err)
    data = _page(request, item)
    data['error'] = message
    return render_to_response(template, data, request=request, response=request.response)


def confirmation(request, workflow, obj, name, params):
    """The confirmation page, if transition ``name`` asks for one and the POST has not
    confirmed it (after checking that it may run: a refusal is said at once); else None.
    For files, summaries, their drafts and receipts alike."""
    if confirmed(request):
        return None
    t = workflow.ready(obj, name, officer_for(request), **params)
    if t.confirm is None:
        return None
    item = getattr(obj, 'casefile', obj)
    question = workflow.message(t, 'confirm', obj, get_site(request),
                                request.localizer.translate, params, request.locale_name)
    return ask(request, question, t.confirm_button, item_url(request, item.kind, item.id),
               ask_pin='pin' in t.needs)


@view_defaults(permission=VIEW)
class ItemPages:
    def __init__(self, request):
        self.request = request

    def _back(self, item, message=None):
        if message:
            flash(self.request, message)
        return HTTPSeeOther(item_url(self.request, item.kind, item.id))

    def _template(self, item):
        return f'kp_workspace:templates/{item.kind}.pt'

    def _opened(self, kind):
        item = read_item(self.request, kind)
        # the reader's alerts about it are read now; on the last retry of a conflict the
        # page is drawn without (they stay unread, the next visit marks them): a GET never
        # fails for an alert
        if not is_last_attempt(self.request):
            officer = officer_for(self.request)
            read_alerts_about(officer.site, officer.login, item.id)
        return dict(_page(self.request, item), error=None)

    @view_config(route_name='file', renderer='kp_workspace:templates/file.pt')
    def file_page(self):
        return self._opened('file')

    @view_config(route_name='summary', renderer='kp_workspace:templates/summary.pt')
    def summary_page(self):
        return self._opened('summary')

    @view_config(route_name='file_notes', request_method='POST')
    @view_config(route_name='summary_notes', request_method='POST')
    def add_note(self):
        item = item_for(self.request)
        try:
            note = write_note(item, officer_for(self.request), self.request.POST.get('text', ''))
        except DomainError as err:
            return _render_error(self.request, item, err, self._template(item))
        return self._back(item, _('Note ${n} added.', mapping={'n': note.n}))

    @view_config(route_name='file_note_edit', renderer='kp_workspace:templates/note_edit.pt')
    def edit_note(self):
        request = self.request
        item = item_for(request, 'file')
        n = note_number(request.matchdict['n'])
        if n is None:
            raise HTTPNotFound()
        note = item.notes.get(n)
        if note is None:
            raise HTTPNotFound()
        error = None
        if request.method == 'POST':
            try:
                edit_note(item, officer_for(request), n, request.POST.get('text', ''))
                return self._back(item, _('Note ${n} changed.', mapping={'n': n}))
            except DomainError as err:
                error = refused(request, err)
        return {'item': item, 'n': n, 'text': request.POST.get('text', note.text), 'error': error,
                'back': request.route_url('file', id=item.id)}

    @view_config(route_name='file_attachments', request_method='POST')
    def add_attachment(self):
        request = self.request
        item = item_for(request, 'file')
        upload = request.POST.get('file')
        try:
            if upload is None or not hasattr(upload, 'file'):
                raise DomainError(_('Choose a file to attach.'), field='file')
            att = attach(item, officer_for(request), upload.file, upload.filename,
                         title=request.POST.get('title', ''),
                         receipt=bool(request.POST.get('receipt')),
                         limit=request.registry.kpw_settings.upload_limit)
        except DomainError as err:
            return _render_error(request, item, err, 'kp_workspace:templates/file.pt')
        back = self._back(item, _('${title} attached as flag ${flag}.',
                                            mapping={'title': att.title, 'flag': att.flag}))
        if request.headers.get('X-Requested-With') == 'XMLHttpRequest':
            # upload.js sent it: it goes to the page itself (a redirect it followed
            # would use up the message above before the officer sees it)
            return Response(json={'location': back.location})
        return back

    @view_config(route_name='file_attachment', request_method='GET')
    def attachment(self):
        return attachment_response(self.request, item_for(self.request, 'file'),
                                   self.request.matchdict['att_id'])

    @view_config(route_name='file_attachment_inline', request_method='GET')
    def attachment_inline(self):
        return attachment_response(self.request, item_for(self.request, 'file'),
                                   self.request.matchdict['att_id'], inline=True)

    @view_config(route_name='file_attachment_ocr', request_method='POST')
    def read_again(self):
        item = item_for(self.request, 'file')
        try:
            att = retry_reading(self.request, item, self.request.matchdict['att_id'])
        except DomainError as err:
            return _render_error(self.request, item, err, 'kp_workspace:templates/file.pt')
        return self._back(item, _('The text of ${title} will be read again.',
                                  mapping={'title': att.title}))

    @view_config(route_name='file_attachment_searchable', request_method='GET')
    def searchable(self):
        return searchable_response(self.request, item_for(self.request, 'file'),
                                   self.request.matchdict['att_id'])

    @view_config(route_name='file_action', request_method='POST')
    @view_config(route_name='summary_action', request_method='POST')
    def action(self):
        request = self.request
        item = item_for(request)
        params = {k: request.POST[k] for k in ('to_post', 'remarks', 'decision', 'pin',
                                                'record_class') if k in request.POST}
        workflow = WORKFLOWS[item.kind]
        try:
            asking = confirmation(request, workflow, item, request.matchdict['action'], params)
            if asking is not None:
                return asking
            t = run_action(request, item, request.matchdict['action'], params)
        except DomainError as err:
            return _render_error(request, item, err, self._template(item))
        return self._back(item, self._done(workflow, t, item))

    def _done(self, workflow, t, obj):
        return workflow.message(t, 'done', obj, get_site(self.request),
                                self.request.localizer.translate,
                                locale_name=self.request.locale_name)

    @view_config(route_name='file_drafts', request_method='POST')
    def add_draft(self):
        request = self.request
        item = item_for(request, 'file')
        try:
            add_draft(item, officer_for(request), request.POST.get('kind', ''),
                      request.POST.get('subject', ''), request.POST.get('body', ''),
                      request.POST.get('addressees', ''), request.POST.get('copies', ''))
        except DomainError as err:
            return _render_error(request, item, err, 'kp_workspace:templates/file.pt')
        return self._back(item, _('Draft added.'))

    @view_config(route_name='file_draft_action', request_method='POST')
    def draft_action(self):
        request = self.request
        item = item_for(request, 'file')
        draft = item.drafts.get(request.matchdict['draft'])
        if draft is None:
            raise HTTPNotFound()
        name = request.matchdict['action']
        pin = request.POST.get('pin') or None
        try:
            if name == 'edit':
                edit_draft(draft, officer_for(request), request.POST.get('subject', ''),
                           request.POST.get('body', ''))
                return self._back(item, _('Draft updated.'))
            asking = confirmation(request, DRAFT_WORKFLOW, draft, name, {'pin': pin})
            if asking is not None:
                return asking
            t = run_draft_action(request, draft, name, pin)
        except DomainError as err:
            return _render_error(request, item, err, 'kp_workspace:templates/file.pt')
        return self._back(item, self._done(DRAFT_WORKFLOW, t, draft))


def _alert_kind(desk, alert):
    """The kind of item ``alert`` is about (a cabinet decision's is not on the desk)."""
    if alert.kind == 'implementation_overdue':
        return 'implementation'
    return getattr(desk.items.get(alert.item_id), 'kind', 'file')


@view_config(route_name='alerts', permission=VIEW, renderer='kp_workspace:templates/alerts.pt')
def alerts_page(request):
    officer = officer_for(request)
    box = officer.site.alerts.box(officer.login)
    if request.method == 'POST':
        if box is not None:
            box.mark_read()
        return HTTPSeeOther(request.route_url('alerts'))
    items = box.newest(100) if box is not None else []
    desk = officer.site.desk
    due, due_count = follow_ups_due(desk, officer.post_ids, now_ts())
    for r in due:
        desk_row(request, r)
        r['until'] = format_when(request, r['parked_until'], time=False)
    return {'items': [{'at': format_when(request, a.at), 'text': a.text, 'unread': unread,
                       'url': item_url(request, _alert_kind(desk, a), a.item_id)}
                      for a, unread in items],
            'unread': box.unread() if box is not None else 0,
            # the reminders: what the user's posts parked whose date has come
            'due': due, 'due_more': due_count > len(due),
            'parked_url': request.route_url('parked')}
