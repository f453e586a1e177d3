"""PDFs, verification, the CA certificate, published notifications, signing PINs.

Public (no sign-in): ``/verify``, ``POST /api/v1/verify``, ``/ca.pem``, ``/ca.crl``,
the OCSP responder ``/ocsp`` and ``/public/notifications``.  Everything else follows
the file's visibility.
"""
import colander
import deform
from pyramid.httpexceptions import HTTPBadRequest, HTTPNotFound, HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.view import view_config
from pyramid_zodbconn import get_connection
from ZEO.ClientStorage import ClientStorage

from .. import official_pdf
from ..audit import actor_from_request
from ..content_types.outgoing import find_draft, pdf_fields
from ..content_types.summary import pdf_fields as summary_fields
from ..errors import DomainError
from ..i18n import display_title, format_when
from ..security.roles import MANAGE_USERS, VIEW
from ..signing import SigningRefused, WrongPin, ocsp, read_pdf, verify
from ..site import get_site
from .api import api_config
from .confirm import ask, confirmed
from .errors import error_response
from .forms import CSRFSchema, run_form
from .layout import flash
from .params import finite_number
from .work import draft_for, item_for, officer_for, pdf_response

_ = TranslationStringFactory('kp_workspace')
PUBLIC = NO_PERMISSION_REQUIRED
NOT_A_PDF = _('This file is not a PDF that can be read.')


# PDFs -----------------------------------------------------------------------------
def _draft_pdf(request, casefile, draft):
    officer = officer_for(request)
    officer.actor.record('draft.pdf_read', f'file:{casefile.id}', draft=draft.id)
    if draft.pdf is not None:
        return pdf_response(request, read_pdf(draft.pdf), f'{draft.number}.pdf')
    data = official_pdf.render_outgoing(pdf_fields(draft, officer.site))
    return pdf_response(request, data, f'{casefile.id}-{draft.id}-draft.pdf')


@view_config(route_name='file_draft_pdf', permission=VIEW)
def file_draft_pdf(request):
    casefile = item_for(request, 'file')
    draft = casefile.drafts.get(request.matchdict['draft'])
    if draft is None:
        raise HTTPNotFound()
    return _draft_pdf(request, casefile, draft)


@view_config(**api_config(route_name='api_draft_pdf', permission=VIEW))
def api_draft_pdf(request):
    return _draft_pdf(request, *draft_for(request, request.matchdict['id']))


def _summary_pdf(request, summary):
    officer = officer_for(request)
    officer.actor.record('summary.pdf_read', f'summary:{summary.id}')
    if summary.pdf is not None:
        data = read_pdf(summary.pdf)
    else:
        data = official_pdf.render_summary(summary_fields(summary, officer.site))
    return pdf_response(request, data, f'summary-{summary.id}.pdf')


@view_config(route_name='summary_pdf', permission=VIEW)
@view_config(**api_config(route_name='api_summary_pdf', permission=VIEW))
def summary_pdf(request):
    return _summary_pdf(request, item_for(request, 'summary'))


@view_config(route_name='file_pdf', permission=VIEW)
@view_config(**api_config(route_name='api_file_pdf', permission=VIEW))
def file_pdf(request):
    casefile = item_for(request, 'file')
    officer = officer_for(request)
    officer.actor.record('file.exported', f'file:{casefile.id}')
    fields, attachments = file_export(casefile, officer.site)
    try:
        data = official_pdf.render_file(fields, attachments)
    finally:  # the blobs opened for merging
        for _title, stream, _note in attachments:
            if stream is not None:
                stream.close()
    return pdf_response(request, data, f'file-{casefile.id}.pdf', inline=False)


def file_export(casefile, site):
    dept = site['departments'].get(casefile.department)
    fields = {
        'department_title': dept.title if dept is not None else casefile.department,
        'number': casefile.number, 'subject': casefile.subject,
        'notes': [(n.n, f'{n.author_name} (acting)' if n.acting else n.author_name,
                   f'for {n.post_title}' if n.acting else n.post_title, n.at, n.text)
                  for n in casefile.notes.values()],
        'movements': [(m.at, m.action, m.from_title, m.to_title,
                       f'for {m.from_title}, by {m.by_name} (acting)' if m.acting
                       else m.by_name, m.remarks)
                      for m in casefile.movements]}
    attachments = []
    for att in casefile.attachments.values():
        if att.content_type == 'application/pdf':
            attachments.append((att.title, att.open(), ''))
        else:
            attachments.append((att.title, None, f'{att.filename} (not a PDF: kept in the file)'))
    for draft in casefile.drafts.values():
        if draft.pdf is not None:
            attachments.append((f'{draft.number}: {draft.subject}', draft.pdf.open('r'), ''))
    return fields, attachments


# verification ------------------------------------------------------------------------
def _uploaded(request):
    upload = request.POST.get('file')
    if upload is None or not hasattr(upload, 'file'):
        raise HTTPBadRequest('Send the PDF as the multipart field "file".')
    return upload.file.read()


def _verify(request, data):
    return verify(get_site(request).signing, data)


@view_config(**api_config(route_name='api_verify', request_method='POST', permission=PUBLIC))
def api_verify(request):
    try:
        result = _verify(request, _uploaded(request))
    except ValueError:
        return error_response(request, 400, NOT_A_PDF)
    return {'valid': result.valid, 'signatures': [s.as_dict() for s in result.signatures]}


# Verifying changes nothing, so the public form needs no CSRF token (and the
# public has no session to keep one in).
@view_config(route_name='verify', permission=PUBLIC, require_csrf=False,
             renderer='kp_workspace:templates/verify.pt')
def verify_page(request):
    result, error = None, None
    if request.method == 'POST':
        try:
            result = _verify(request, _uploaded(request))
        except HTTPBadRequest:
            request.response.status = 400
            error = request.localizer.translate(_('Choose a PDF file to verify.'))
        except ValueError:
            request.response.status = 400
            error = request.localizer.translate(NOT_A_PDF)
    signed_when = [(format_when(request, s.signed_at), format_when(request, s.revoked_at, time=False))
                   for s in (result.signatures if result is not None else ())]
    return {'result': result, 'error': error, 'signed_when': signed_when,
            'ca_url': request.route_url('ca_pem'), 'crl_url': request.route_url('ca_crl')}


@view_config(route_name='ca_pem', permission=PUBLIC)
def ca_pem(request):
    return Response(body=get_site(request).signing.ca_cert_pem,
                    content_type='application/x-pem-file',
                    content_disposition='attachment; filename="kp-workspace-ca.pem"')


# A verifier may cache the CRL a little; a revocation is re-published at once, so the
# cache is short (five minutes), far shorter than the CRL's own nextUpdate.
CRL_MAX_AGE = 300


@view_config(route_name='ca_crl', permission=PUBLIC)
def ca_crl(request):
    """The CA's certificate revocation list (DER), the address every certificate names."""
    crl = get_site(request).signing.current_crl(request.registry.kpw_settings.secret)
    response = Response(body=crl, content_type='application/pkix-crl',
                        content_disposition='attachment; filename="kp-workspace-ca.crl"')
    response.cache_control.public = True
    response.cache_control.max_age = CRL_MAX_AGE
    return response


# The OCSP responder (RFC 6960): POST a DER request to /ocsp, or GET /ocsp/{base64}.
# Clients post a bare body with no cookie or session, so there is no CSRF token; the
# answer changes nothing (but a first responder certificate; see ocsp.py).
OCSP_MAX_AGE = 60   # a GET answer may be cached by the way for a minute


def _caught_up(request):
    """Take in every commit any process made before now.  RelStorage polls for them when
    a transaction starts; a ZEO client learns of them from its server asynchronously, so
    a request that starts just after another process revoked a certificate might not see
    it yet: wait for them (a round trip to the server, what ZEO's ``server_sync`` does at
    every transaction) and take them in.  (This request has changed nothing yet.)"""
    conn = get_connection(request)
    if isinstance(conn.db().storage, ClientStorage):
        conn.db().storage.ping()
        conn.newTransaction(None, False)


def _ocsp_response(request, der):
    _caught_up(request)
    answer = ocsp.answer(get_site(request).signing, request.registry.kpw_settings.secret, der)
    response = Response(body=answer.body, status=answer.status,
                        content_type=ocsp.RESPONSE_TYPE)
    if request.method == 'GET' and answer.status == 200:
        response.cache_control.public = True
        response.cache_control.max_age = OCSP_MAX_AGE
    else:
        response.cache_control.no_store = True
    return response


def _ocsp_refusal(request, status, allow=None):
    """An OCSP malformedRequest answer, with HTTP ``status`` (400, 405, 413)."""
    response = Response(body=ocsp.malformed(status).body, status=status,
                        content_type=ocsp.RESPONSE_TYPE)
    response.cache_control.no_store = True
    if allow:
        response.allow = allow
    return response


@view_config(route_name='ocsp', permission=PUBLIC, require_csrf=False)
def ocsp_post(request):
    """``POST /ocsp`` with an ``application/ocsp-request`` body."""
    if request.method != 'POST':
        return _ocsp_refusal(request, 405, ('POST',))
    if (request.content_length or 0) > ocsp.MAX_REQUEST:
        return _ocsp_refusal(request, 413)
    return _ocsp_response(request, request.body_file.read(ocsp.MAX_REQUEST + 1))


@view_config(route_name='ocsp_get', permission=PUBLIC, require_csrf=False)
def ocsp_get(request):
    """``GET /ocsp/{the request, base64}`` (RFC 6960 A.1)."""
    if request.method not in ('GET', 'HEAD'):
        return _ocsp_refusal(request, 405, ('GET',))
    try:
        der = ocsp.decode_get('/'.join(request.matchdict['request']))
    except ValueError:
        return _ocsp_refusal(request, 400)
    return _ocsp_response(request, der)


# published notifications -------------------------------------------------------------
def _published(site, address):
    try:
        casefile, draft = find_draft(site, address)
    except DomainError:
        raise HTTPNotFound()
    if draft.kind != 'notification' or draft.state != 'issued' or draft.pdf is None:
        raise HTTPNotFound()
    return casefile, draft


@view_config(route_name='public_notifications', permission=PUBLIC,
             renderer='kp_workspace:templates/notices.pt')
def public_notifications(request):
    site = get_site(request)
    after = None
    raw = request.params.get('after', '')
    if raw:
        try:
            ts, address = raw.split('~', 1)
            after = (finite_number(ts, 'after'), address)
        except (ValueError, DomainError):
            raise HTTPBadRequest('after is not a position from this page.')
    addresses, next_key = site.notices.page(after, size=20)
    rows = []
    for address in addresses:
        try:
            casefile, draft = _published(site, address)
        except HTTPNotFound:  # listed but no longer public: leave it out
            continue
        dept = site['departments'].get(casefile.department)
        rows.append({'number': draft.number, 'subject': draft.subject,
                     'department': display_title(dept, request) if dept is not None else casefile.department,
                     'date': format_when(request, draft.dated_at, time=False),
                     'url': request.route_url('public_notification_pdf', id=address)})
    next_url = (request.route_url('public_notifications',
                                  _query={'after': f'{next_key[0]!r}~{next_key[1]}'})
                if next_key else None)
    return {'rows': rows, 'total': len(site.notices), 'next_url': next_url,
            'verify_url': request.route_url('verify')}


@view_config(route_name='public_notification_pdf', permission=PUBLIC)
def public_notification_pdf(request):
    _casefile, draft = _published(get_site(request), request.matchdict['id'])
    return pdf_response(request, read_pdf(draft.pdf), f'{draft.number}.pdf')


# the signer's own certificate and PIN --------------------------------------------------
def _pin_node(title, name):
    return colander.SchemaNode(colander.String(), name=name, title=title,
                               widget=deform.widget.PasswordWidget(
                                   attributes={'inputmode': 'numeric',
                                               'autocomplete': 'off'}))


class SetPinSchema(CSRFSchema):
    pin = _pin_node(_('New signing PIN (6 to 12 digits)'), 'pin')
    again = _pin_node(_('The same PIN again'), 'again')


class ChangePinSchema(SetPinSchema):
    current = _pin_node(_('Present signing PIN'), 'current')


def _same(data):
    if data['pin'] != data['again']:
        raise SigningRefused(_('The two PINs differ.'), status=400)


@view_config(route_name='account_signing', permission=VIEW,
             renderer='kp_workspace:templates/account_signing.pt')
def account_signing(request):
    officer = officer_for(request)
    authority = officer.site.signing
    record = authority.current(officer.login)
    settings = request.registry.kpw_settings
    secret = settings.secret
    state = record.state if record is not None else None

    def activate(data):
        _same(data)
        authority.activate(officer.login, data['pin'], secret, crl_url=settings.crl_url,
                           ocsp_url=settings.ocsp_url)
        officer.actor.record('signing.pin_set', f'user:{officer.login}', serial=record.serial)
        return _('Your signing certificate is ready. Keep your PIN to yourself.')

    def change(data):
        _same(data)
        try:
            authority.change_pin(officer.login, data['current'], data['pin'], secret)
        except WrongPin:
            officer.actor.record('signing.wrong_pin', f'user:{officer.login}')
            raise
        officer.actor.record('signing.pin_changed', f'user:{officer.login}')
        return _('Your signing PIN has been changed.')

    form = None
    if state == 'awaiting_pin':
        form = run_form(request, SetPinSchema(), activate, buttons=(_('Set PIN'),))
    elif state == 'active':
        form = run_form(request, ChangePinSchema(), change, buttons=(_('Change PIN'),))
    if hasattr(form, 'status_code'):
        return form
    cert = record.certificate if record is not None and record.cert_pem else None
    return {'record': record, 'state': state, 'form': form['form'] if form else None,
            'valid_until': format_when(request, cert.not_valid_after_utc, time=False) if cert else '',
            'ca_url': request.route_url('ca_pem')}


# administrators: issue and revoke ------------------------------------------------------
CERTIFICATE_STATES = {'active': _('active'), 'awaiting_pin': _('waiting for its PIN'),
                      'revoked': _('revoked')}
REVOKE_QUESTION = _('Revoke the signing certificate ${serial} of ${name} (${login})? They can no '
                    'longer sign with it, and what they signed with it is reported as signed '
                    'with a revoked certificate. This cannot be undone.')


def _ask_revoke(request, authority):
    """The confirmation page before a revocation (a certificate that is not there, or is
    revoked already, is refused at once)."""
    record = authority.revocable(request.POST.get('serial', ''))
    question = request.localizer.translate(_(REVOKE_QUESTION, mapping={
        'serial': record.serial, 'name': record.name, 'login': record.login}))
    return ask(request, question, _('Yes, revoke'), request.route_url('admin_signing'))


@view_config(route_name='admin_signing', permission=MANAGE_USERS,
             renderer='kp_workspace:templates/admin/signing.pt')
def admin_signing(request):
    site = get_site(request)
    authority = site.signing
    users = site['principals'].users
    actor = actor_from_request(request)
    error = None
    if request.method == 'POST':
        op = request.POST.get('op', '')
        try:
            if op == 'issue':
                user = users.get(request.POST.get('login', ''))
                if user is None:
                    raise SigningRefused(_('There is no such user.'), status=400)
                record = authority.issue(user.login, user.name, request.identity.user.login)
                actor.record('signing.certificate_issued', f'user:{user.login}',
                             serial=record.serial)
                flash(request, _('Certificate issued to ${login}: they now set their signing '
                                 'PIN under "Signing certificate".',
                                 mapping={'login': user.login}))
            elif op == 'revoke' and not confirmed(request):
                return _ask_revoke(request, authority)
            elif op == 'revoke':
                record = authority.revoke(request.POST.get('serial', ''),
                                          request.identity.user.login,
                                          request.POST.get('reason', '').strip()[:200],
                                          secret=request.registry.kpw_settings.secret)
                actor.record('signing.certificate_revoked', f'user:{record.login}',
                             serial=record.serial)
                flash(request, _('Certificate ${serial} revoked.',
                                 mapping={'serial': record.serial}))
            elif op == 'trust':
                cert = authority.import_ca(request.POST.get('pem', '').encode())
                actor.record('signing.ca_trusted', 'signing', subject=cert.subject.rfc4514_string())
                flash(request, _('That CA is now trusted for verification.'))
            else:
                raise HTTPBadRequest('Unknown operation.')
            return HTTPSeeOther(request.route_url('admin_signing'))
        except SigningRefused as err:
            request.response.status = err.status
            error = request.localizer.translate(err.message)
    rows = [{'serial': r.serial, 'login': r.login, 'name': r.name, 'state': r.state,
             'state_title': request.localizer.translate(CERTIFICATE_STATES[r.state]),
             'source': r.source, 'issued': format_when(request, r.issued_at, time=False),
             'revoked': format_when(request, r.revoked_at, time=False),
             'reason': r.reason}
            for r in authority.certificates.values()]
    return {'rows': rows, 'error': error,
            'users': sorted((u.login, u.name) for u in users.values() if u.active),
            'trusted': len(authority.trusted), 'ca_url': request.route_url('ca_pem'),
            'crl_url': request.route_url('ca_crl'),
            'crumbs': [(request.localizer.translate(_('Administration')),
                        request.route_url('admin'))]}
