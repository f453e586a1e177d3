"""What the file-work views share: the acting officer, lookups, actions, JSON shapes.

HTML pages and the JSON API call the same functions here, which call the domain.
"""
import itertools
import time

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from pyramid.i18n import TranslationStringFactory
from pyramid.response import FileIter, Response

from pyramid_mailer import get_mailer

from .. import followups
from ..access import Officer
from ..audit import actor_from_request
from ..content_types.attachment import in_order
from ..content_types.casefile import CLASSIFICATION_TITLES, PRIORITY_TITLES, find_item
from ..content_types.outgoing import find_draft
from ..security.headers import show_in_reading_pane
from ..signing import context_from_settings
from ..site import get_site
from ..workflows.casefile import CASEFILE
from ..workflows.draft import DRAFT_WORKFLOW
from ..workflows.receipt import RECEIPT
from ..workflows.summary import SUMMARY

_ = TranslationStringFactory('kp_workspace')
WORKFLOWS = {'file': CASEFILE, 'summary': SUMMARY, 'receipt': RECEIPT}
# the page of each kind of item (a route taking its id)
PAGES = {'file': 'file', 'summary': 'summary', 'receipt': 'receipt',
         'implementation': 'implementation_item'}


def item_url(request, kind, item_id):
    """The address of the page of item ``item_id`` of ``kind`` (a file's for an unknown
    kind: its page says what there is)."""
    return request.route_url(PAGES.get(kind, 'file'), id=item_id)


def officer_for(request):
    """The signed-in user as an :class:`Officer` (cached per request object)."""
    found = request.__dict__.get('_kpw_officer')
    if found is None:
        mailer = get_mailer(request) if request.registry.kpw_settings.mail else None
        found = Officer(request.identity.user, get_site(request), actor_from_request(request),
                        mailer)
        request.__dict__['_kpw_officer'] = found
    return found


def item_for(request, kind=None, key='id'):
    """The file or summary the route names, if the user may see it (404 alike when it
    does not exist, may not be seen, or is of the other kind than the route's)."""
    if kind is None:  # a route shared by both kinds: its name says which
        kind = next(k for k in ('summary', 'receipt', 'file')
                    if k in request.matched_route.name or k == 'file')
    return find_item(get_site(request), officer_for(request), request.matchdict[key], kind)


def department_for(request, permission):
    """The department the route names (404 when there is none), if the user holds
    ``permission`` in it (else 403)."""
    dept = get_site(request)['departments'].get(request.matchdict['name'])
    if dept is None:
        raise HTTPNotFound()
    if not officer_for(request).may_in_department(permission, dept.__name__):
        raise HTTPForbidden()
    return dept


def desk_row(request, r):
    """Add to a list row what pages show: its address and its labels in words."""
    translate = request.localizer.translate
    r['url'] = item_url(request, r['kind'], r['id'])
    r['priority_title'] = translate(PRIORITY_TITLES[r['priority']])
    r['priority_label'] = translate(_('Priority: ${priority}',
                                      mapping={'priority': r['priority_title']}))
    r['classification_label'] = (translate(CLASSIFICATION_TITLES[r['classification']])
                                 if r['classification'] != 'routine' else None)
    return r


def draft_for(request, draft_id):
    """The draft and its file; 404 alike when it does not exist or its file may not be seen."""
    return find_draft(get_site(request), draft_id, officer_for(request))


def run_action(request, item, action, params):
    params = dict(params, signing=context_from_settings(request.registry.kpw_settings))
    return WORKFLOWS[item.kind].run(item, action, officer_for(request), **params)


def run_draft_action(request, draft, action, pin=None):
    return DRAFT_WORKFLOW.run(draft, action, officer_for(request), pin=pin,
                              signing=context_from_settings(request.registry.kpw_settings))


def pdf_response(request, data, filename, inline=True):
    response = Response(body=data, content_type='application/pdf')
    kind = 'inline' if inline else 'attachment'
    response.content_disposition = f'{kind}; filename="{_ascii(filename)}"'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    return response


def now_ts():
    return time.time()


def iso(dt):
    return dt.isoformat() if dt is not None else None


def post_ref(site, post_id):
    post = site['principals'].posts.get(post_id) if post_id else None
    return {'id': post_id, 'title': post.title if post is not None else post_id}


#: how many of the newest notes and movements a compact file or summary carries
COMPACT = 10


def note_json(item, n):
    return {'n': n.n, 'text': n.text, 'author': n.author, 'author_name': n.author_name,
            'post': n.post_id, 'at': iso(n.at), 'edited_at': iso(n.edited_at),
            'frozen': item.is_frozen(n)}


def notes_json(item, newest=None):
    """The notes of ``item`` in order (only the ``newest`` so many, if given)."""
    if newest is None:
        return [note_json(item, n) for n in item.notes.values()]
    numbers = list(itertools.islice(reversed(item.notes.keys()), newest))
    return [note_json(item, item.notes[k]) for k in reversed(numbers)]


def notes_page(item, after, limit):
    """``(notes, more)``: the notes of ``item`` numbered after ``after``, at most ``limit``,
    read from the note tree's range (not every note)."""
    chunk = list(itertools.islice(item.notes.values(min=after, excludemin=True), limit + 1))
    return [note_json(item, n) for n in chunk[:limit]], len(chunk) > limit


def movements_json(item, newest=None):
    movements = item.movements if newest is None else item.movements[-newest:]
    return [{'from': m.from_post, 'to': m.to_post, 'action': m.action, 'remarks': m.remarks,
             'at': iso(m.at), 'by': m.by} for m in movements]


def signatures_json(obj):
    return [{'login': login, 'name': name, 'post': post, 'at': iso(at)}
            for login, name, post, at in obj.signatures]


def draft_json(casefile, draft):
    return {'id': f'{casefile.id}-{draft.id}', 'kind': draft.kind, 'subject': draft.subject,
            'body': draft.body, 'addressees': draft.addressees, 'copies': draft.copies,
            'state': draft.state, 'author': draft.author,
            'approved_by': draft.approved_by, 'approved_at': iso(draft.approved_at),
            'number': draft.number, 'dated_at': iso(draft.dated_at),
            'signatures': signatures_json(draft), 'issued_at': iso(draft.issued_at)}


def item_json(request, item, compact=False):
    """A file or summary as the API gives it; ``compact``: only its newest notes and
    movements (``COMPACT`` of each; the counts say how many there are in all)."""
    site = get_site(request)
    officer = officer_for(request)
    newest = COMPACT if compact else None
    data = {
        'id': item.id, 'kind': item.kind, 'number': item.number, 'subject': item.subject,
        'state': item.state, 'classification': item.classification, 'priority': item.priority,
        'department': item.department, 'holder': post_ref(site, item.holder),
        'notes': notes_json(item, newest), 'notes_count': len(item.notes),
        'movements': movements_json(item, newest), 'movements_count': len(item.movements),
        'actions': [t.name for t in WORKFLOWS[item.kind].available(item, officer)],
        **follow_up_json(officer, item),
    }
    if item.kind == 'file':
        data['attachments'] = [attachment_json(a) for a in in_order(item)]
        data['drafts'] = [draft_json(item, d) for d in item.drafts.values()]
        data['implements'] = item.implements
        data.update(record_json(request, item))
    else:
        for name in ('background', 'proposal', 'financial_implications', 'decision_sought',
                     'decision', 'decision_remarks'):
            data[name] = getattr(item, name)
        data['decided_at'] = iso(item.decided_at)
        data['filed_at'] = iso(item.filed_at)
        data['implementing_file'] = item.implementing_file
        data['signatures'] = signatures_json(item)
    return data


def attachment_json(a):
    from ..ocr import status
    return {'id': a.id, 'flag': a.flag, 'title': a.title, 'filename': a.filename,
            'content_type': a.content_type, 'size': a.size, 'pages': a.pages,
            'diary_number': a.diary_number, 'ocr': status(a)}


def record_json(request, casefile):
    """A file's keeping: its record class and first weeding day once closed, its hold."""
    from ..recordroom import record_room, weed_from
    room = record_room(get_site(request))
    hold = room.hold_of(casefile.id) if room is not None else None
    day = weed_from(casefile, request.registry.kpw_settings.retention_years)
    return {'record_class': casefile.record_class if casefile.state == 'closed' else None,
            'weed_from': day.isoformat() if day else None,
            'legal_hold': None if hold is None else {'reason': hold.reason, 'by': hold.by,
                                                     'at': iso(hold.at)}}


def ref_json(item):
    return {'id': item.id, 'kind': item.kind, 'number': item.number, 'subject': item.subject}


def follow_up_json(officer, item):
    """``links``, ``referred_in`` (only the items ``officer`` may open) and ``parked``."""
    parking = officer.site.desk.parking_of(item.id)
    return {
        'links': [dict(ref_json(other), remark=found.remark, by=found.by, at=iso(found.at))
                  for other, found in followups.links_seen(officer, item)],
        'referred_in': [ref_json(other) for other in followups.referred_in(officer, item)],
        'parked': None if parking is None else {
            'until': followups.until_day(parking).isoformat(), 'reason': parking.reason,
            'by': parking.by, 'at': iso(parking.at),
            'due': followups.is_due(parking, now_ts())},
    }


def attachment_response(request, item, att_id, inline=False):
    """The bytes of attachment ``att_id`` of ``item`` (already checked: the user may view it).

    Downloaded (``attachment``) unless ``inline`` is asked for a PDF or a raster image:
    then shown by the browser, and a PDF may sit in this site's reading pane.  Any other
    type is never shown inline, and one not known to be harmless is sent as bytes.
    :raises HTTPNotFound: no such attachment (the same answer as for a file not seen).
    """
    att = attachment_of(item, att_id)
    inline = inline and att.reading is not None
    officer_for(request).actor.record('attachment.read', f'file:{item.id}', attachment=att_id,
                                      **({'inline': True} if inline else {}))
    return document_response(att, f'{att.id}-{att.filename}', inline)


def attachment_of(item, att_id):
    """Attachment ``att_id`` of ``item`` (already checked: the user may view it).
    :raises HTTPNotFound: no such attachment (the same answer as for a file not seen)."""
    att = item.attachments.get(att_id)
    if att is None:
        raise HTTPNotFound()
    return att


def searchable_response(request, item, att_id):
    """The searchable PDF copy of scan ``att_id`` of ``item`` (made by text recognition,
    beside the original), downloaded; 404 when there is none (yet)."""
    att = attachment_of(item, att_id)
    if att.searchable is None:
        raise HTTPNotFound()
    officer_for(request).actor.record('attachment.read', f'file:{item.id}', attachment=att_id,
                                      searchable=True)
    return file_response(att.searchable.open('r'), 'application/pdf',
                         f'{att.id}-searchable-{att.filename}.pdf')


def retry_reading(request, item, att_id):
    """Queue the failed scan ``att_id`` of ``item`` again.  :returns: the attachment."""
    from ..ocr import retry
    att = attachment_of(item, att_id)
    retry(get_site(request), officer_for(request), item, att)
    return att


def document_response(att, filename, inline):
    """The bytes of ``att`` (an attachment, or a receipt's letter) as ``filename``: shown
    by the browser when ``inline`` (the caller has checked it may be), else downloaded."""
    response = file_response(att.open(), att.served_type, filename, inline, att.size)
    if inline and att.reading == 'pdf':
        show_in_reading_pane(response)
    return response


def file_response(stream, content_type, filename, inline=False, size=None):
    """Stored bytes (an open blob) as ``filename``, never sniffed nor cached: shown by the
    browser when ``inline``, else downloaded."""
    response = Response(content_type=content_type, app_iter=FileIter(stream))
    if size is not None:
        response.content_length = size
    kind = 'inline' if inline else 'attachment'
    response.content_disposition = f'{kind}; filename="{_ascii(filename)}"'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    response.headers['Cache-Control'] = 'no-store'
    return response


def _ascii(name):
    return ''.join(c if c.isascii() and (c.isalnum() or c in '._-') else '_' for c in name)
