"""What the pages and the API show of dispatches: ready values, no rules (those are in
:mod:`kp_workspace.dispatch`)."""
from pyramid.i18n import TranslationStringFactory

from ..content_types.outgoing import KIND_TITLES
from ..errors import DomainError
from ..i18n import format_when
from . import MODE_TITLES, MODES, check_dispatcher, recipient_lines

_ = TranslationStringFactory('kp_workspace')


def may_dispatch(casefile, officer):
    """Whether to offer the dispatch forms (the domain checks again on posting)."""
    try:
        check_dispatcher(casefile, officer)
    except DomainError:
        return False
    return True


def entry_json(entry):
    return {'id': entry.id, 'number': entry.number, 'department': entry.department,
            'file': entry.file_id, 'draft': entry.address,
            'document_number': entry.doc_number, 'subject': entry.subject,
            'kind': entry.kind, 'mode': entry.mode, 'dispatched_at': entry.at.isoformat(),
            'by': entry.by, 'emails': list(entry.emails), 'remarks': entry.remarks,
            'recipients': [_recipient_json(entry, i, line, role)
                           for i, (line, role) in enumerate(entry.recipients)]}


def _recipient_json(entry, index, line, role):
    ack = entry.acknowledgements.get(index)
    return {'line': line, 'role': role, 'acknowledgement': None if ack is None else {
        'received_on': ack.received_on.isoformat(), 'remarks': ack.remarks, 'by': ack.by,
        'recorded_at': ack.at.isoformat()}}


def entry_row(request, entry, ack_url=None, file_url=None):
    """An entry as the pages show it; ``ack_url``: where acknowledgements are posted
    (None: the user may not record them)."""
    translate = request.localizer.translate
    recipients = []
    for i, (line, role) in enumerate(entry.recipients):
        ack = entry.acknowledgements.get(i)
        recipients.append({
            'line': line, 'copy': role == 'copy',
            'ack': None if ack is None else translate(_(
                'received on ${date} (recorded by ${name})',
                mapping={'date': ack.received_on.isoformat(), 'name': ack.by_name})),
            'remarks': ack.remarks if ack is not None else ''})
    return {'id': entry.id, 'number': entry.number, 'at': format_when(request, entry.at),
            'document': entry.doc_number, 'subject': entry.subject,
            'kind': translate(KIND_TITLES[entry.kind]),
            'mode': translate(MODE_TITLES[entry.mode]), 'emails': ', '.join(entry.emails),
            'remarks': entry.remarks, 'by': entry.by_name, 'recipients': recipients,
            'pending': [line for i, (line, _r) in enumerate(entry.recipients)
                        if i not in entry.acknowledgements],
            'ack_url': ack_url if entry.pending() else None, 'file_url': file_url}


def dispatch_form(request, casefile, draft, url):
    """The values of the dispatch form of an issued ``draft``."""
    translate = request.localizer.translate
    return {'url': url, 'id': f'{casefile.id}-{draft.id}',
            'lines': [{'line': line, 'copy': role == 'copy'}
                      for line, role in recipient_lines(draft)],
            'modes': [(m, translate(MODE_TITLES[m])) for m in MODES],
            'mail': bool(request.registry.kpw_settings.mail)}


def draft_panel(request, officer, casefile, draft):
    """What the file page shows under an issued draft: its dispatches and (for those
    who may dispatch) the form; None for a draft not issued."""
    if draft.state != 'issued':
        return None
    register = officer.site.dispatch.register(casefile.department) \
        if getattr(officer.site, 'dispatch', None) is not None else None
    entries = register.of_draft(f'{casefile.id}-{draft.id}') if register is not None else []
    may = may_dispatch(casefile, officer)
    url = request.route_url('file_draft_dispatch', id=casefile.id, draft=draft.id)
    return {'entries': [entry_row(request, e) for e in entries],
            'form': dispatch_form(request, casefile, draft, url) if may else None,
            'register_url': request.route_url('department_dispatch',
                                              name=casefile.department)}
