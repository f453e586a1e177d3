"""The authorization matrix, written as data: every route x every role x object states.

Every route of :data:`kp_workspace.views.ROUTES` (browser and API) has an entry in
:data:`MATRIX`; a route added without one fails :func:`test_every_route_has_an_entry`.
The expectations come from the rules (DESIGN.md, ``kp_workspace/access.py``, issue 11),
not from what the code answers today:

- Nobody sees what they should not: an object the user may not see answers 404 with
  the same message as one that does not exist (``missing``).
- A write needs the role's permission **and** the object's state: the holder whose
  role lacks the permission is refused (403); a user who may see the object but does
  not hold it is refused (409, it is with another desk); a closed file refuses every
  change (409) until it is reopened.  When both the role and the state refuse, either
  answer is right.
- Anonymous browsers are sent to the login page (303); anonymous API clients get 401.

The objects are built once for the module, one per state, all in the Finance
Department (the Sports Department's for ``other_department``); a cell whose write is
that would move its object (an action) gets a fresh copy, so the cells do not depend on
each other's order.
"""
import datetime
import io
import re

import pytest
import transaction

from kp_workspace.populate import DEMO_PASSWORD, DEMO_PIN
from tests.conftest import Browser, close_app, copy_demo, make_app

# --- who ------------------------------------------------------------------------------
# Each role is a demo user (``other_officer`` is added: a Finance officer who holds none
# of the objects); ``officer`` opened every Finance object below.
WHO = {
    'officer': 'so.finance',
    'other_officer': 'so2.finance',
    'approver': 'secretary.finance',
    'chief_minister': 'cm',
    'records_clerk': 'clerk.finance',
    'diary_clerk': 'diary.finance',
    'administrator': 'admin',
    # a member of the cabinet (a Minister), called to the demo's cabinet meeting
    'member': 'minister.finance',
    'anonymous': None,
}
SIGNED_IN = tuple(w for w in WHO if w != 'anonymous')

FILE_WORK = {'open_file', 'write_note', 'attach', 'draft', 'forward'}
# What each may do on Finance objects (their posts' roles in the department).  The Chief
# Minister and the administrator have no role in the Finance Department.
MAY = {
    'officer': FILE_WORK,
    'other_officer': FILE_WORK,
    'approver': FILE_WORK | {'approve', 'sign'},
    'chief_minister': set(),
    'records_clerk': {'read_archive'},
    'diary_clerk': {'register_receipt'},
    'administrator': set(),
    'member': set(),
    'anonymous': set(),
}
# What holding an object adds: the roles of the holder's post where it sits (the Chief
# Minister's post is in the Chief Minister's Secretariat).
HOLDING_MAY = {'chief_minister': FILE_WORK | {'approve', 'sign', 'decide_summary'}}

# A member of the cabinet sees the cabinet's pages, their own account and the public
# pages, and nothing else of the workspace: every other route answers them 403 (their
# role is denied "view" at the site, whatever the object), before anything is looked up.
MEMBER_REACHES = {
    'home', 'login', 'logout', 'account_password', 'account_devices',
    'account_device_sign_out', 'set_language', 'healthz', 'favicon', 'verify', 'ca_pem',
    'public_notifications', 'public_notification_pdf', 'api_token', 'api_token_refresh',
    'api_openapi', 'api_me', 'api_devices', 'api_device', 'api_verify',
    'cabinet', 'cabinet_meetings', 'cabinet_meeting', 'cabinet_meeting_action',
    'cabinet_papers', 'cabinet_minutes', 'public_cabinet_decisions', 'api_cabinet_meetings',
    'api_cabinet_proposed', 'api_cabinet_meeting', 'api_cabinet_meeting_action',
    'api_cabinet_papers', 'api_cabinet_minutes', 'api_public_cabinet_decisions',
    # what anyone may read without signing in
    'ca_crl', 'ocsp', 'ocsp_get', 'public', 'public_notifications_atom', 'public_departments', 'public_department',
    'api_public_notifications', 'api_public_departments', 'api_public_department',
}


def expected_for(route, probe, who, state):
    if who == 'member' and route not in MEMBER_REACHES:
        return 403
    return probe.expect(who, state, probe.states, probe.api)


# --- object states ----------------------------------------------------------------------
# state: (who may see it, who holds it, closed, note 1 frozen)
FILE_STATES = {
    'held': ({'officer'}, 'officer', False, False),
    'forwarded': ({'officer', 'approver'}, 'approver', False, True),
    'closed': ({'officer', 'records_clerk'}, None, True, True),
    # closed by the Secretary it was forwarded to (its last holder may approve)
    'closed_by_approver': ({'officer', 'approver', 'records_clerk'}, None, True, True),
    'confidential': ({'officer'}, 'officer', False, False),
    'secret': ({'officer'}, 'officer', False, False),
    'other_department': (set(), None, False, False),
    'at_records_clerk': ({'officer', 'records_clerk'}, 'records_clerk', False, True),
    'at_diary_clerk': ({'officer', 'diary_clerk'}, 'diary_clerk', False, True),
    'missing': (set(), None, False, False),
}
SUMMARY_STATES = {
    'held': ({'officer'}, 'officer', False, False),
    'forwarded': ({'officer', 'approver'}, 'approver', False, True),
    'with_chief_minister': ({'officer', 'approver', 'chief_minister'}, 'chief_minister',
                            False, True),
    # decided by the Chief Minister and back with the officer: final, like a closed file
    'decided': ({'officer', 'approver', 'chief_minister'}, 'officer', True, True),
    # recorded as received and filed: in the department's records, for its records clerks
    'filed': ({'officer', 'approver', 'chief_minister', 'records_clerk'}, None, True, True),
    'confidential': ({'officer'}, 'officer', False, False),
    'secret': ({'officer'}, 'officer', False, False),
    'other_department': (set(), None, False, False),
    'missing': (set(), None, False, False),
}
# receipts (letters in the dak): the diary of their department sees them all
RECEIPT_STATES = {
    'at_diary': ({'diary_clerk'}, 'diary_clerk', False, False),
    'marked': ({'diary_clerk', 'officer'}, 'officer', False, False),
    # put into a file: final
    'in_file': ({'diary_clerk', 'officer'}, None, True, False),
    'other_department': (set(), None, False, False),
    'missing': (set(), None, False, False),
}
DEPARTMENT_STATES = ('own', 'other_department', 'missing')
# cabinet decisions sent for implementation: a Finance one (seen by Finance's file workers
# and by the Chief Minister's dashboard), one implemented (final), a Sports one
IMPLEMENTATION_STATES = {
    'open': ({'officer', 'other_officer', 'approver', 'chief_minister'}, None, False, False),
    'implemented': ({'officer', 'other_officer', 'approver', 'chief_minister'}, None, True,
                    False),
    'other_department': ({'chief_minister'}, None, False, False),
    'missing': (set(), None, False, False),
}

LOGIN = 'login'  # expected: a browser sent to the login page (303)


def _anonymous(api):
    return 401 if api else LOGIN


def read(success=200):
    """Seen by whoever may see the object."""
    def expect(who, state, states, api):
        if who == 'anonymous':
            return _anonymous(api)
        return success if who in states[state][0] else 404
    return expect


def write(permission, success):
    """A change: the role's permission, holding the object, and an open object."""
    def expect(who, state, states, api):
        if who == 'anonymous':
            return _anonymous(api)
        sees, holder, closed, _frozen = states[state]
        if who not in sees:
            return 404
        has = permission in MAY[who] or (
            holder == who and permission in HOLDING_MAY.get(who, ()))
        if closed:
            return 409 if has else {403, 409}
        if holder == who:
            return success if has else 403
        return 409 if has else {403, 409}
    return expect


def edit_note(success):
    """Note 1 (written by ``officer``): its author only, until the file moves on."""
    def expect(who, state, states, api):
        if who == 'anonymous':
            return _anonymous(api)
        sees, holder, closed, frozen = states[state]
        if who not in sees:
            return 404
        if who != 'officer':
            return {403, 409} if (closed or frozen) else 403
        return 409 if (closed or frozen) else success
    return expect


def in_state(rule, **overrides):
    """``rule``, except in the states named: ``state={who: status}`` (others as the rule)."""
    def expect(who, state, states, api):
        if state in overrides and who in overrides[state]:
            return overrides[state][who]
        return rule(who, state, states, api)
    return expect


def member_gets(rule, status):
    """``rule``, except that the member of the cabinet gets ``status``."""
    def expect(who, state, states, api):
        return status if who == 'member' else rule(who, state, states, api)
    return expect


def everyone(status, anonymous=None):
    """Every signed-in user gets ``status``; anonymous gets ``anonymous`` (default: sign in)."""
    def expect(who, state, states, api):
        if who == 'anonymous':
            return _anonymous(api) if anonymous is None else anonymous
        return status
    return expect


def only(allowed, status, otherwise=403):
    """Those in ``allowed`` get ``status``, other signed-in users ``otherwise``."""
    def expect(who, state, states, api):
        if who == 'anonymous':
            return _anonymous(api)
        return status if who in allowed else otherwise
    return expect


def reporting(success):
    """A compliance report on a cabinet decision: the file workers of its department
    (``write_note`` there); whoever else sees it (the dashboard's) is refused 403; an
    implemented decision takes no more reports (409)."""
    def expect(who, state, states, api):
        if who == 'anonymous':
            return _anonymous(api)
        sees, _holder, closed, _frozen = states[state]
        if who not in sees:
            return 404
        if 'write_note' not in MAY[who]:
            return {403, 409} if closed else 403
        return 409 if closed else success
    return expect


def in_department(allowed, status):
    """Department routes: ``allowed`` (roles holding the permission in Finance) get
    ``status`` for Finance; nobody may for Sports (403); no such department: 404."""
    def expect(who, state, states, api):
        if who == 'anonymous':
            return _anonymous(api)
        if state == 'missing':
            return 404
        return status if (state == 'own' and who in allowed) else 403
    return expect


ADMIN = {'administrator'}
APPROVERS = {'approver'}
OPENERS = {'officer', 'other_officer', 'approver'}
# who may open a department's dispatch register: its file workers and its diary
# (what each sees in it is filtered entry by entry: tests/dispatch)
REGISTER_KEEPERS = OPENERS | {'diary_clerk'}


# who has business with the cabinet here: the member (called to the demo's meeting)
CABINET_MEMBERS = {'member'}

# who may enter a department's record room: its records clerks and its approvers
ROOM = {'records_clerk', 'approver'}


def lifting(status):
    """Lifting a legal hold: the department's approvers (``status``); its records clerks
    enter the record room but may not lift (403)."""
    rule = in_department(APPROVERS, status)

    def expect(who, state, states, api):
        if who == 'records_clerk' and state == 'own':
            return 403
        return rule(who, state, states, api)
    return expect


class Probe:
    """One request on a route: ``method``, the path (``{file}``, ``{draft}``, ... filled
    from the state's object), what it sends, and the expected status per who x state.

    ``states``: FILE_STATES, SUMMARY_STATES, DEPARTMENT_STATES or None (no object).
    ``moves``: a success changes its object (holder or state): give the cell a fresh one.
    ``fresh_session``: the request ends the session or token it uses.
    """

    def __init__(self, method, path, expect, states=None, form=None, json=None, upload=False,
                 moves=False, fresh_session=False, name=''):
        self.method, self.path, self.expect, self.states = method, path, expect, states
        self.form, self.json, self.upload = form, json, upload
        self.moves, self.fresh_session, self.name = moves, fresh_session, name

    @property
    def api(self):
        return self.path.startswith('/api/')

    def __repr__(self):
        return f'{self.method} {self.path}{" " + self.name if self.name else ""}'


F, S, D, R = FILE_STATES, SUMMARY_STATES, DEPARTMENT_STATES, RECEIPT_STATES
IMP = IMPLEMENTATION_STATES
REPORT = {'status': 'in_progress', 'note': 'Reported by the matrix.'}
DIARY = {'diary_clerk'}
LETTER = {'sender': 'The matrix', 'subject': 'A letter to the diary', 'mode': 'post'}
MARK_ON = {'to_post': 'secretary-finance', 'remarks': 'For orders.'}
NOTE = {'text': 'A note from the authorization matrix.'}
DRAFT = {'kind': 'letter', 'subject': 'A letter from the matrix', 'body': 'Body of the letter.'}
FORWARD = {'to_post': 'chief-secretary', 'remarks': 'For orders.'}
SUMMARY = {'subject': 'A summary from the matrix', 'background': 'Background.',
           'proposal': 'Proposal.', 'decision_sought': 'Decision sought.'}
# follow-ups: put up with the demo's Finance file (which the Section Officer and the
# Secretary may open), or park for ten days
LINK = {'number': f'FD/{datetime.datetime.now(datetime.timezone.utc).year}/0001',
        'remark': 'Put up by the matrix.'}
PARK = {'until': (datetime.datetime.now(datetime.timezone.utc).date()
                  + datetime.timedelta(days=10)).isoformat(), 'reason': 'Awaiting a reply'}

MATRIX = {
    # (a member of the cabinet is sent to the cabinet's page)
    'home': [Probe('GET', '/', member_gets(everyone(200), 303))],
    'login': [Probe('GET', '/login', everyone(303, anonymous=200)),
              Probe('POST', '/login', everyone(401, anonymous=401),
                    form={'login': 'nobody.here', 'password': 'not-a-password'})],
    'logout': [Probe('GET', '/logout', everyone(200)),
               Probe('POST', '/logout', everyone(303, anonymous=303), form={},
                     fresh_session=True)],
    'account_password': [Probe('GET', '/account/password', everyone(200)),
                         Probe('POST', '/account/password', everyone(400), form={})],
    # one's own devices; an unknown one (or another user's) is not there
    # (tests/views/test_devices.py)
    'account_devices': [Probe('GET', '/account/devices', everyone(200))],
    'account_device_sign_out': [Probe('POST', '/account/devices/0000000000000000/sign-out',
                                      everyone(404), form={'confirmed': '1'})],
    'set_language': [Probe('GET', '/language/ur', everyone(303, anonymous=303))],
    'healthz': [Probe('GET', '/healthz', everyone(200, anonymous=200))],
    'favicon': [Probe('GET', '/favicon.ico', everyone(200, anonymous=200))],
    'admin': [Probe('GET', '/admin', only(ADMIN, 200))],
    'admin_users': [Probe('GET', '/admin/users', only(ADMIN, 200))],
    'admin_user_add': [Probe('GET', '/admin/users/+add', only(ADMIN, 200)),
                       Probe('POST', '/admin/users/+add', only(ADMIN, 400), form={})],
    'admin_user': [Probe('GET', '/admin/users/so.finance', only(ADMIN, 200)),
                   Probe('POST', '/admin/users/so.finance', only(ADMIN, 400), form={})],
    'admin_user_password': [
        Probe('GET', '/admin/users/so.finance/password', only(ADMIN, 200)),
        Probe('POST', '/admin/users/so.finance/password', only(ADMIN, 400), form={})],
    'admin_user_device_sign_out': [
        Probe('POST', '/admin/users/so.finance/devices/0000000000000000/sign-out',
              only(ADMIN, 404), form={'confirmed': '1'})],
    'admin_groups': [Probe('GET', '/admin/groups', only(ADMIN, 200)),
                     Probe('POST', '/admin/groups', only(ADMIN, 400), form={})],
    'admin_posts': [Probe('GET', '/admin/posts', only(ADMIN, 200))],
    'admin_post_add': [Probe('GET', '/admin/posts/+add', only(ADMIN, 200)),
                       Probe('POST', '/admin/posts/+add', only(ADMIN, 400), form={})],
    'admin_post': [Probe('GET', '/admin/posts/so-budget-finance', only(ADMIN, 200)),
                   Probe('POST', '/admin/posts/so-budget-finance', only(ADMIN, 400),
                         form={'op': 'no-such-operation', 'login': 'so.finance'})],
    'admin_departments': [Probe('GET', '/admin/departments', only(ADMIN, 200))],
    'admin_department_add': [
        Probe('GET', '/admin/departments/+add', only(ADMIN, 200)),
        Probe('POST', '/admin/departments/+add', only(ADMIN, 400), form={})],
    'admin_department': [
        Probe('GET', '/admin/departments/finance', only(ADMIN, 200)),
        Probe('POST', '/admin/departments/finance', only(ADMIN, 400),
              form={'op': 'no-such-operation'})],
    'admin_roles': [Probe('GET', '/admin/roles', only(ADMIN, 200))],
    'admin_audit': [Probe('GET', '/admin/audit', only(ADMIN, 200))],
    'admin_signing': [Probe('GET', '/admin/signing', only(ADMIN, 200))],
    'account_signing': [Probe('GET', '/account/signing', everyone(200))],
    'search': [Probe('GET', '/search?q=matrix', everyone(200))],
    'inbox': [Probe('GET', '/inbox', everyone(200))],
    'sent': [Probe('GET', '/sent', everyone(200))],
    'pending': [Probe('GET', '/pending', everyone(200))],
    'overdue': [Probe('GET', '/overdue', everyone(200))],
    'alerts': [Probe('GET', '/alerts', everyone(200))],
    # acting charges: anyone may ask (a form with no post is refused: 400); a charge
    # nobody may see answers 404 like one that does not exist
    'charges': [Probe('GET', '/charges', everyone(200)),
                Probe('POST', '/charges', everyone(400), form={})],
    'charge_action': [Probe('POST', '/charges/nosuchcharge/approve', everyone(404), form={})],
    'api_charges': [Probe('GET', '/api/v1/charges', everyone(200)),
                    Probe('POST', '/api/v1/charges', everyone(400), json={})],
    'api_charge_action': [Probe('POST', '/api/v1/charges/nosuchcharge/actions/revoke',
                                everyone(404), json={})],
    # the dak
    'receipts': [Probe('GET', '/receipts', everyone(200))],
    'receipt': [Probe('GET', '/receipts/{receipt}', read(), states=R)],
    'receipt_letter': [Probe('GET', '/receipts/{receipt}/letter', read(), states=R)],
    'receipt_letter_inline': [Probe('GET', '/receipts/{receipt}/letter/inline', read(),
                                    states=R)],
    # (the matrix's letter is a scan waiting to be read: nothing to read again, 409, for
    # its holder as for those who may not change it; tests/test_ocr.py fails a letter)
    'receipt_letter_ocr': [Probe('POST', '/receipts/{receipt}/letter/ocr', read(409),
                                 states=R, form={})],
    # (with the diary, marking it on is not a step there is: 409, and the diary's role
    # may not mark on anyway: 403)
    'receipt_action': [Probe('POST', '/receipts/{receipt}/actions/forward',
                             in_state(write('forward', 303), at_diary={'diary_clerk': {403, 409}}),
                             states=R, form=MARK_ON, moves=True)],
    'department_diary': [Probe('GET', '/departments/{department}/diary',
                               in_department(DIARY, 200), states=D)],
    'department_diary_csv': [Probe('GET', '/departments/{department}/diary.csv',
                                   in_department(DIARY, 200), states=D)],
    'department_diary_new': [
        Probe('GET', '/departments/{department}/diary/new', in_department(DIARY, 200),
              states=D),
        Probe('POST', '/departments/{department}/diary/new', in_department(DIARY, 400),
              states=D, form={})],
    'parked': [Probe('GET', '/parked', everyone(200))],
    # public pages: no sign-in
    'verify': [Probe('GET', '/verify', everyone(200, anonymous=200)),
               Probe('POST', '/verify', everyone(400, anonymous=400), form={})],
    'ca_pem': [Probe('GET', '/ca.pem', everyone(200, anonymous=200))],
    'ca_crl': [Probe('GET', '/ca.crl', everyone(200, anonymous=200))],
    # the OCSP responder: a request it cannot read is malformed (400) for anyone; one for
    # another CA (this one) is answered, "unauthorized", for anyone
    'ocsp': [Probe('POST', '/ocsp', everyone(400, anonymous=400), form={}),
             Probe('GET', '/ocsp', everyone(405, anonymous=405))],
    'ocsp_get': [Probe('GET', '/ocsp/MEIwQDA+MDwwOjAJBgUrDgMCGgUABBQBAQEBAQEBAQEBAQEBAQEBAQEB'
                       'AQQUAgICAgICAgICAgICAgICAgICAgICAQE=', everyone(200, anonymous=200))],
    'public_notifications': [Probe('GET', '/public/notifications',
                                   everyone(200, anonymous=200))],
    'public_notification_pdf': [Probe('GET', '/public/notifications/FD-X-0.pdf',
                                      everyone(404, anonymous=404))],
    # public transparency: the same answer for everyone, signed in or not (a department
    # that does not exist: 404)
    'public': [Probe('GET', '/public', everyone(200, anonymous=200))],
    'public_notifications_atom': [Probe('GET', '/public/notifications.atom',
                                        everyone(200, anonymous=200))],
    'public_departments': [Probe('GET', '/public/departments', everyone(200, anonymous=200))],
    'public_department': [
        Probe('GET', '/public/departments/finance', everyone(200, anonymous=200)),
        Probe('GET', '/public/departments/no-such-department', everyone(404, anonymous=404),
              name='(none)')],
    'api_public_notifications': [Probe('GET', '/api/v1/public/notifications',
                                       everyone(200, anonymous=200))],
    'api_public_departments': [Probe('GET', '/api/v1/public/departments',
                                     everyone(200, anonymous=200))],
    'api_public_department': [
        Probe('GET', '/api/v1/public/departments/finance', everyone(200, anonymous=200)),
        Probe('GET', '/api/v1/public/departments/no-such-department',
              everyone(404, anonymous=404), name='(none)')],
    # departments
    'department': [Probe('GET', '/departments/{department}', in_department(APPROVERS, 200),
                         states=D)],
    'department_files': [
        Probe('GET', '/departments/{department}/files?desk=so-finance',
              in_department(APPROVERS, 400), states=D),
        Probe('GET', '/departments/{department}/files?age=0-2', in_department(APPROVERS, 200),
              states=D)],
    'department_new_file': [
        Probe('GET', '/departments/{department}/files/new', in_department(OPENERS, 200),
              states=D),
        Probe('POST', '/departments/{department}/files/new', in_department(OPENERS, 400),
              states=D, form={})],
    'department_new_summary': [
        Probe('GET', '/departments/{department}/summaries/new', in_department(OPENERS, 200),
              states=D),
        Probe('POST', '/departments/{department}/summaries/new',
              in_department(OPENERS, 400), states=D, form={})],
    # files in the browser
    'file': [Probe('GET', '/files/{file}', read(), states=F)],
    'file_notes': [Probe('POST', '/files/{file}/notes', write('write_note', 303), states=F,
                         form=NOTE)],
    'file_note_edit': [
        Probe('GET', '/files/{file}/notes/1/edit', read(), states=F),
        Probe('POST', '/files/{file}/notes/1/edit', edit_note(303), states=F,
              form={'text': 'Changed by the matrix.'})],
    'file_attachments': [
        Probe('POST', '/files/{file}/attachments', write('attach', 303), states=F,
              form={'title': 'A letter'}, upload=True),
        Probe('POST', '/files/{file}/attachments', write('register_receipt', 303), states=F,
              form={'title': 'An inward letter', 'receipt': 'on'}, upload=True,
              name='(a receipt: diary number)')],
    'file_attachment': [Probe('GET', '/files/{file}/attachments/{attachment}', read(),
                              states=F)],
    'file_attachment_inline': [Probe('GET', '/files/{file}/attachments/{attachment}/inline',
                                     read(), states=F)],
    'file_attachment_ocr': [Probe('POST', '/files/{file}/attachments/{attachment}/ocr',
                                  write('attach', 409), states=F, form={})],
    'file_attachment_searchable': [Probe(
        'GET', '/files/{file}/attachments/{attachment}/searchable', read(404), states=F)],
    'file_action': [Probe('POST', '/files/{file}/actions/forward', write('forward', 303),
                          states=F, form=FORWARD, moves=True)],
    'file_drafts': [Probe('POST', '/files/{file}/drafts', write('draft', 303), states=F,
                          form=DRAFT)],
    'file_draft_action': [Probe('POST', '/files/{file}/drafts/{local_draft}/actions/approve',
                                write('approve', 303), states=F, form={}, moves=True)],
    'file_draft_pdf': [Probe('GET', '/files/{file}/drafts/{local_draft}/pdf', read(),
                             states=F)],
    'file_pdf': [Probe('GET', '/files/{file}/pdf', read(), states=F)],
    # dispatch: every object's draft is awaiting approval, so whoever may see it is told
    # it is not issued (409); the roles on issued documents are in tests/dispatch
    'file_draft_dispatch': [Probe('POST', '/files/{file}/drafts/{local_draft}/dispatch',
                                  read(409), states=F,
                                  form={'mode': 'by_hand', 'recipients': 'Someone'})],
    'department_dispatch': [
        Probe('GET', '/departments/{department}/dispatch', in_department(REGISTER_KEEPERS, 200),
              states=D),
        Probe('GET', '/departments/{department}/dispatch?format=csv',
              in_department(REGISTER_KEEPERS, 200), states=D, name='(CSV)')],
    # the record room: its records clerks and approvers; lifting a hold: approvers only
    # (the flows, and who does which step, are in tests/test_record_room.py)
    'department_records': [Probe('GET', '/departments/{department}/records',
                                 in_department(ROOM, 200), states=D)],
    'department_records_lists': [Probe('POST', '/departments/{department}/records/lists',
                                       in_department(ROOM, 400), states=D,
                                       form={'files': 'no-such-file'})],
    'department_records_list': [Probe('GET', '/departments/{department}/records/lists/2026-9999',
                                      in_department(ROOM, 404), states=D)],
    'department_records_list_action': [Probe(
        'POST', '/departments/{department}/records/lists/2026-9999/carry_out',
        in_department(ROOM, 404), states=D, form={'confirmed': '1'})],
    'department_records_list_pdf': [Probe(
        'GET', '/departments/{department}/records/lists/2026-9999.pdf',
        in_department(ROOM, 404), states=D)],
    'department_records_holds': [Probe('POST', '/departments/{department}/records/holds',
                                       in_department(ROOM, 400), states=D,
                                       form={'number': 'NO/SUCH/1', 'reason': 'The matrix'})],
    'department_records_hold_lift': [Probe(
        'POST', '/departments/{department}/records/holds/no-such-file/lift',
        lifting(404), states=D, form={'reason': 'The matrix'})],
    'api_records_due': [Probe('GET', '/api/v1/departments/{department}/records/due',
                              in_department(ROOM, 200), states=D)],
    'api_weeding_lists': [
        Probe('GET', '/api/v1/departments/{department}/weeding-lists',
              in_department(ROOM, 200), states=D),
        Probe('POST', '/api/v1/departments/{department}/weeding-lists',
              in_department(ROOM, 400), states=D, json={'files': ['no-such-file']})],
    'api_weeding_list': [Probe('GET', '/api/v1/departments/{department}/weeding-lists/2026-9999',
                               in_department(ROOM, 404), states=D)],
    'api_weeding_list_action': [Probe(
        'POST', '/api/v1/departments/{department}/weeding-lists/2026-9999/actions/approve',
        in_department(ROOM, 404), states=D, json={'pin': '123456'})],
    'api_weeding_list_pdf': [Probe(
        'GET', '/api/v1/departments/{department}/weeding-lists/2026-9999/pdf',
        in_department(ROOM, 404), states=D)],
    'api_records_holds': [
        Probe('GET', '/api/v1/departments/{department}/holds', in_department(ROOM, 200),
              states=D),
        Probe('POST', '/api/v1/departments/{department}/holds', in_department(ROOM, 400),
              states=D, json={'number': 'NO/SUCH/1', 'reason': 'The matrix'})],
    'api_records_hold_lift': [Probe(
        'POST', '/api/v1/departments/{department}/holds/no-such-file/lift', lifting(404),
        states=D, json={'reason': 'The matrix'})],
    'api_records_tombstones': [Probe('GET', '/api/v1/departments/{department}/tombstones',
                                     in_department(ROOM, 200), states=D)],
    'department_dispatch_acknowledgements': [Probe(
        'POST', '/departments/{department}/dispatch/2026-0001/acknowledgements',
        in_department(REGISTER_KEEPERS, 404), states=D,
        form={'recipient': 'Someone', 'received_on': '2026-01-02'})],
    # follow-ups: links need the permission to write notes, parking the one to forward.
    # (Removing a link the file does not have, and taking back a file that is not parked,
    # are what the holder may try: 404 and 409 where the change itself would pass.)
    'file_links': [Probe('POST', '/files/{file}/links', write('write_note', 303), states=F,
                         form=LINK, moves=True)],
    'file_link_remove': [Probe('POST', '/files/{file}/links/nosuchfile/remove',
                               write('write_note', 404), states=F, form={})],
    'file_park': [Probe('POST', '/files/{file}/park', write('forward', 303), states=F,
                        form=PARK, moves=True)],
    'file_resume': [Probe('POST', '/files/{file}/resume', write('forward', 409), states=F,
                          form={})],
    # summaries in the browser
    'summary': [Probe('GET', '/summaries/{summary}', read(), states=S)],
    'summary_notes': [Probe('POST', '/summaries/{summary}/notes', write('write_note', 303),
                            states=S, form=NOTE)],
    'summary_action': [Probe(
        'POST', '/summaries/{summary}/actions/submit',
        in_state(write('forward', 303), forwarded={'officer': 409, 'approver': 409},
                 with_chief_minister={'officer': 409, 'approver': 409, 'chief_minister': 409}),
        states=S, form={'to_post': 'secretary-finance'}, moves=True)],
    'summary_pdf': [Probe('GET', '/summaries/{summary}/pdf', read(), states=S)],
    # the API
    'api_token': [Probe('POST', '/api/v1/auth/token', everyone(401, anonymous=401),
                        json={'login': 'nobody.here', 'password': 'not-a-password'}),
                  Probe('DELETE', '/api/v1/auth/token', everyone(204), fresh_session=True)],
    'api_me': [Probe('GET', '/api/v1/me', everyone(200))],
    # devices: a refresh token is its own credential (no bearer token); each user's own
    # devices, and any user's for administrators (tests/api/test_devices.py)
    'api_token_refresh': [Probe('POST', '/api/v1/auth/refresh', everyone(401, anonymous=401),
                                json={'refresh_token': 'kpwr_not-a-token'})],
    'api_devices': [Probe('GET', '/api/v1/auth/devices', everyone(200))],
    'api_device': [Probe('DELETE', '/api/v1/auth/devices/0000000000000000', everyone(404))],
    'api_user_devices': [Probe('GET', '/api/v1/users/so.finance/devices', only(ADMIN, 200))],
    'api_user_device': [Probe('DELETE', '/api/v1/users/so.finance/devices/0000000000000000',
                              only(ADMIN, 404))],
    'api_openapi': [Probe('GET', '/api/v1/openapi.json', everyone(200, anonymous=200))],
    'api_posts': [Probe('GET', '/api/v1/posts', everyone(200))],
    'api_department_files': [Probe(
        'POST', '/api/v1/departments/{department}/files', in_department(OPENERS, 201),
        states=D, json={'subject': 'Opened by the matrix'})],
    'api_department_summaries': [Probe(
        'POST', '/api/v1/departments/{department}/summaries', in_department(OPENERS, 201),
        states=D, json=SUMMARY)],
    'api_file': [Probe('GET', '/api/v1/files/{file}', read(), states=F)],
    'api_file_notes': [Probe('POST', '/api/v1/files/{file}/notes', write('write_note', 201),
                             states=F, json=NOTE),
                       Probe('GET', '/api/v1/files/{file}/notes', read(), states=F)],
    'api_file_note': [Probe('PATCH', '/api/v1/files/{file}/notes/1', edit_note(200),
                            states=F, json={'text': 'Changed by the matrix.'})],
    'api_file_attachments': [
        Probe('POST', '/api/v1/files/{file}/attachments', write('attach', 201), states=F,
              form={'title': 'A letter'}, upload=True),
        Probe('POST', '/api/v1/files/{file}/attachments', write('register_receipt', 201),
              states=F, form={'title': 'An inward letter', 'receipt': 'true'}, upload=True,
              name='(a receipt: diary number)')],
    'api_file_attachment': [Probe('GET', '/api/v1/files/{file}/attachments/{attachment}',
                                  read(), states=F)],
    # (the matrix's attachment is a PDF with text, not a scan: nothing to read again, and
    # no searchable copy; tests/test_ocr.py reads real scans)
    'api_file_attachment_ocr': [Probe('POST',
                                      '/api/v1/files/{file}/attachments/{attachment}/ocr',
                                      write('attach', 409), states=F, json={})],
    'api_file_attachment_searchable': [Probe(
        'GET', '/api/v1/files/{file}/attachments/{attachment}/searchable', read(404),
        states=F)],
    'api_file_action': [Probe('POST', '/api/v1/files/{file}/actions/forward',
                              write('forward', 200), states=F, json=FORWARD, moves=True)],
    'api_file_drafts': [Probe('POST', '/api/v1/files/{file}/drafts', write('draft', 201),
                              states=F, json=DRAFT)],
    'api_draft_action': [Probe('POST', '/api/v1/drafts/{draft}/actions/approve',
                               write('approve', 200), states=F, json={}, moves=True)],
    'api_draft_pdf': [Probe('GET', '/api/v1/drafts/{draft}/pdf', read(), states=F)],
    'api_file_pdf': [Probe('GET', '/api/v1/files/{file}/pdf', read(), states=F)],
    'api_file_links': [Probe('POST', '/api/v1/files/{file}/links', write('write_note', 201),
                             states=F, json=LINK, moves=True)],
    'api_file_link': [Probe('DELETE', '/api/v1/files/{file}/links/nosuchfile',
                            write('write_note', 404), states=F)],
    'api_file_park': [Probe('POST', '/api/v1/files/{file}/park', write('forward', 200),
                            states=F, json=PARK, moves=True)],
    'api_file_resume': [Probe('POST', '/api/v1/files/{file}/resume', write('forward', 409),
                              states=F, json={})],
    'api_summary': [Probe('GET', '/api/v1/summaries/{summary}', read(), states=S)],
    'api_summary_notes': [Probe('POST', '/api/v1/summaries/{summary}/notes',
                                write('write_note', 201), states=S, json=NOTE),
                          Probe('GET', '/api/v1/summaries/{summary}/notes', read(), states=S)],
    'api_summary_action': [Probe(
        'POST', '/api/v1/summaries/{summary}/actions/submit',
        in_state(write('forward', 200), forwarded={'officer': 409, 'approver': 409},
                 with_chief_minister={'officer': 409, 'approver': 409, 'chief_minister': 409}),
        states=S, json={'to_post': 'secretary-finance'}, moves=True)],
    'api_summary_pdf': [Probe('GET', '/api/v1/summaries/{summary}/pdf', read(), states=S)],
    'api_inbox': [Probe('GET', '/api/v1/inbox', everyone(200))],
    'api_department_receipts': [
        Probe('GET', '/api/v1/departments/{department}/receipts', in_department(DIARY, 200),
              states=D),
        Probe('POST', '/api/v1/departments/{department}/receipts', in_department(DIARY, 201),
              states=D, form=LETTER, upload=True)],
    'api_receipts': [Probe('GET', '/api/v1/receipts', everyone(200))],
    'api_receipt': [Probe('GET', '/api/v1/receipts/{receipt}', read(), states=R)],
    'api_receipt_letter': [Probe('GET', '/api/v1/receipts/{receipt}/letter', read(),
                                 states=R)],
    'api_receipt_letter_ocr': [Probe('POST', '/api/v1/receipts/{receipt}/letter/ocr',
                                     read(409), states=R, json={})],
    'api_receipt_action': [
        Probe('POST', '/api/v1/receipts/{receipt}/actions/forward',
              in_state(write('forward', 200), at_diary={'diary_clerk': {403, 409}}),
              states=R, json=MARK_ON, moves=True),
        # only the diary marks: the officer holding a marked letter may not (403; and
        # it is no longer with the diary: 409)
        Probe('POST', '/api/v1/receipts/{receipt}/actions/mark',
              in_state(write('register_receipt', 200), marked={'officer': {403, 409}}),
              states=R, json=MARK_ON, moves=True, name='(the diary marks)')],
    'api_alerts': [Probe('GET', '/api/v1/alerts', everyone(200))],
    'api_alert_changes': [Probe('GET', '/api/v1/alerts/changes', everyone(200))],
    'api_alerts_read': [Probe('POST', '/api/v1/alerts/read', everyone(200), json={})],
    'api_search': [Probe('GET', '/api/v1/search?q=matrix', everyone(200))],
    'api_verify': [Probe('POST', '/api/v1/verify', everyone(400, anonymous=400), form={})],
    'api_draft_dispatch': [Probe('POST', '/api/v1/drafts/{draft}/dispatch', read(409),
                                 states=F, json={'mode': 'by_hand'})],
    'api_department_dispatch': [Probe('GET', '/api/v1/departments/{department}/dispatch',
                                      in_department(REGISTER_KEEPERS, 200), states=D)],
    # the cabinet (the flows, and the Cabinet Wing's and Chief Secretary's steps, are in
    # tests/cabinet): the demo's meeting 1 (minutes signed) is seen by the members called
    # to it, and by nobody here else (404); the pages are for those with cabinet business
    'cabinet': [Probe('GET', '/cabinet', only(CABINET_MEMBERS, 200))],
    'cabinet_meetings': [Probe('POST', '/cabinet/meetings', everyone(403),
                               form={'date': '2026-01-01', 'place': 'The matrix'})],
    'cabinet_meeting': [Probe('GET', '/cabinet/meetings/1', only(CABINET_MEMBERS, 200, 404)),
                        Probe('GET', '/cabinet/meetings/999', everyone(404), name='(none)')],
    'cabinet_meeting_action': [Probe('POST', '/cabinet/meetings/1/issue',
                                     only(CABINET_MEMBERS, 403, 404), form={})],
    'cabinet_papers': [Probe('GET', '/cabinet/meetings/1/papers.pdf',
                             only(CABINET_MEMBERS, 200, 404))],
    'cabinet_minutes': [Probe('GET', '/cabinet/meetings/1/minutes.pdf',
                              only(CABINET_MEMBERS, 200, 404))],
    'public_cabinet_decisions': [Probe('GET', '/public/cabinet/decisions',
                                       everyone(200, anonymous=200))],
    'api_cabinet_meetings': [
        Probe('GET', '/api/v1/cabinet/meetings', only(CABINET_MEMBERS, 200)),
        Probe('POST', '/api/v1/cabinet/meetings', everyone(403),
              json={'date': '2026-01-01', 'place': 'The matrix'})],
    'api_cabinet_proposed': [Probe('GET', '/api/v1/cabinet/proposed', everyone(403))],
    'api_cabinet_meeting': [Probe('GET', '/api/v1/cabinet/meetings/1',
                                  only(CABINET_MEMBERS, 200, 404))],
    'api_cabinet_meeting_action': [Probe('POST', '/api/v1/cabinet/meetings/1/actions/sign',
                                         only(CABINET_MEMBERS, 403, 404),
                                         json={'pin': DEMO_PIN})],
    'api_cabinet_papers': [Probe('GET', '/api/v1/cabinet/meetings/1/papers',
                                 only(CABINET_MEMBERS, 200, 404))],
    'api_cabinet_minutes': [Probe('GET', '/api/v1/cabinet/meetings/1/minutes',
                                  only(CABINET_MEMBERS, 200, 404))],
    'api_public_cabinet_decisions': [Probe('GET', '/api/v1/public/cabinet/decisions',
                                           everyone(200, anonymous=200))],
    # cabinet decisions' implementation (the flows are in tests/implementation)
    'implementation': [Probe('GET', '/implementation', everyone(200))],
    'implementation_dashboard': [Probe('GET', '/implementation/dashboard',
                                       only({'chief_minister'}, 200))],
    'implementation_item': [Probe('GET', '/implementation/{implementation}', read(),
                                  states=IMP)],
    'implementation_reports': [Probe('POST', '/implementation/{implementation}/reports',
                                     reporting(303), states=IMP, form=REPORT)],
    'implementation_attachment': [Probe(
        'GET', '/implementation/{implementation}/attachments/a1', read(), states=IMP)],
    'api_implementation': [Probe('GET', '/api/v1/implementation', everyone(200))],
    'api_implementation_reports': [Probe('POST', '/api/v1/implementation/{implementation}/reports',
                                         reporting(201), states=IMP, json=REPORT)],
    'api_dispatch_acknowledgements': [Probe(
        'POST', '/api/v1/departments/{department}/dispatch/2026-0001/acknowledgements',
        in_department(REGISTER_KEEPERS, 404), states=D,
        json={'recipient': 'Someone', 'received_on': '2026-01-02'})],
}

PNG = b'\x89PNG\r\n\x1a\n' + b'\0' * 100


# --- the objects ------------------------------------------------------------------------

def _add_other_officer(site, conn):
    """Add ``other_officer``; returns a function of a login: that user as an Officer."""
    from kp_workspace.access import Officer
    from kp_workspace.audit import Actor, ensure_audit_log
    actor = Actor('matrix', '127.0.0.1', ensure_audit_log(conn))
    principals = site['principals']
    post = principals.add_post(actor, site['departments'], 'so-2-finance',
                               'Section Officer (Admin), Finance', 'finance', ('officer',))
    user = principals.add_user(actor, 'so2.finance', 'Zara Khan', DEMO_PASSWORD)
    principals.assign(actor, post, user)
    # a diary in the Sports Department, whose letters no Finance user sees
    post = principals.add_post(actor, site['departments'], 'diary-sports',
                               'Diary Clerk, Sports', 'sports', ('diary_clerk',))
    principals.assign(actor, post, principals.add_user(actor, 'diary.sports', 'Zahid Gul',
                                                       DEMO_PASSWORD))

    def officer(login):
        return Officer(principals.users[login], site, actor)
    return officer


class Objects:
    """The objects of each state, and fresh copies on demand."""

    def __init__(self, wsgi):
        self.wsgi = wsgi
        self.files, self.summaries, self.receipts = {}, {}, {}
        self.fresh_files, self.fresh_summaries, self.fresh_receipts = {}, {}, {}

    def _run(self, fn):
        from kp_workspace.site import ROOT_KEY
        db = self.wsgi.registry._zodb_databases['']
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        try:
            with tm:
                return fn(conn.root()[ROOT_KEY], conn)
        finally:
            conn.close()

    def build(self, fresh_files, fresh_summaries, fresh_receipts):
        """One object per state, plus ``fresh_*`` ({state: count}) spare copies."""
        from kp_workspace.signing import context_from_settings
        context = context_from_settings(self.wsgi.registry.kpw_settings)

        def make(site, conn):
            officer = _add_other_officer(site, conn)
            for state in FILE_STATES:
                if state != 'missing':
                    self.files[state] = _file(site, officer, state)
                    self.fresh_files[state] = [_file(site, officer, state)
                                               for _ in range(fresh_files.get(state, 0))]
            for state in SUMMARY_STATES:
                if state != 'missing':
                    self.summaries[state] = _summary(site, officer, state, context)
                    self.fresh_summaries[state] = [
                        _summary(site, officer, state, context)
                        for _ in range(fresh_summaries.get(state, 0))]
            for state in RECEIPT_STATES:
                if state != 'missing':
                    self.receipts[state] = _receipt(site, officer, state)
                    self.fresh_receipts[state] = [
                        _receipt(site, officer, state)
                        for _ in range(fresh_receipts.get(state, 0))]
        self._run(make)
        self.implementations = self._run(_implementations)
        self.receipts['missing'] = {'receipt': 'nosuchreceipt'}
        self.files['missing'] = {'file': 'nosuchfile', 'attachment': 'nosuchatt',
                                 'local_draft': 'd1', 'draft': 'nosuchfile-d1'}
        self.summaries['missing'] = {'summary': 'nosuchsummary'}

    def fill(self, probe, state, fresh):
        if probe.states in (FILE_STATES, SUMMARY_STATES, RECEIPT_STATES):
            shared, pools = {id(FILE_STATES): (self.files, self.fresh_files),
                             id(SUMMARY_STATES): (self.summaries, self.fresh_summaries),
                             id(RECEIPT_STATES): (self.receipts, self.fresh_receipts)
                             }[id(probe.states)]
            return probe.path.format(**(pools[state].pop() if fresh else shared[state]))
        if probe.states is IMPLEMENTATION_STATES:
            return probe.path.format(implementation=self.implementations[state])
        if probe.states is DEPARTMENT_STATES:
            name = {'own': 'finance', 'other_department': 'sports',
                    'missing': 'no-such-department'}[state]
            return probe.path.format(department=name)
        return probe.path


def _file(site, officer, state):
    from kp_workspace.content_types.attachment import attach
    from kp_workspace.content_types.casefile import open_file
    from kp_workspace.content_types.movable import write_note
    from kp_workspace.content_types.outgoing import add_draft
    from kp_workspace.workflows.casefile import CASEFILE
    from kp_workspace.workflows.draft import DRAFT_WORKFLOW
    if state == 'other_department':
        dept, who = 'sports', officer('so.sports')
    else:
        dept, who = 'finance', officer('so.finance')
    classification = state if state in ('confidential', 'secret') else 'routine'
    casefile = open_file(site['departments'][dept], who, f'Matrix file ({state})',
                         classification, 'routine')
    write_note(casefile, who, 'The first note.')
    att = attach(casefile, who, io.BytesIO(PNG), 'scan.png', title='A scan')
    draft = add_draft(casefile, who, 'letter', 'A letter', 'The letter.')
    DRAFT_WORKFLOW.run(draft, 'submit', who)  # put up for approval
    if state == 'forwarded':
        CASEFILE.run(casefile, 'forward', who, to_post='secretary-finance', remarks='')
    elif state == 'at_records_clerk':
        CASEFILE.run(casefile, 'forward', who, to_post='records-finance', remarks='')
    elif state == 'at_diary_clerk':
        CASEFILE.run(casefile, 'forward', who, to_post='diary-finance', remarks='')
    elif state in ('closed', 'closed_by_approver'):
        closer = who
        if state == 'closed_by_approver':
            CASEFILE.run(casefile, 'forward', who, to_post='secretary-finance', remarks='')
            closer = officer('secretary.finance')
        # (a file closed while its draft awaited approval, as an older release allowed;
        # closed must be final for it too)
        draft.state = 'draft'
        CASEFILE.run(casefile, 'close', closer, remarks='')
        draft.state = 'pending'
    return {'file': casefile.id, 'attachment': att.id, 'local_draft': draft.id,
            'draft': f'{casefile.id}-{draft.id}'}


def _summary(site, officer, state, signing_context=None):
    from kp_workspace.content_types.summary import initiate_summary
    from kp_workspace.workflows.summary import SUMMARY as SUMMARY_WORKFLOW
    if state == 'other_department':
        dept, who = 'sports', officer('so.sports')
    else:
        dept, who = 'finance', officer('so.finance')
    classification = state if state in ('confidential', 'secret') else 'routine'
    summary = initiate_summary(site['departments'][dept], who, f'Matrix summary ({state})',
                               'Background.', 'Proposal.', 'Decision sought.', '',
                               classification, 'routine')
    if state in ('forwarded', 'with_chief_minister', 'decided', 'filed'):
        SUMMARY_WORKFLOW.run(summary, 'submit', who, to_post='secretary-finance')
    if state in ('with_chief_minister', 'decided', 'filed'):
        SUMMARY_WORKFLOW.run(summary, 'put_up', officer('secretary.finance'),
                             to_post='chief-minister')
    if state in ('decided', 'filed'):
        SUMMARY_WORKFLOW.run(summary, 'decide', officer('cm'), decision='approved',
                             pin=DEMO_PIN, signing=signing_context)
    if state == 'filed':
        SUMMARY_WORKFLOW.run(summary, 'file_decided', who, remarks='')
    return {'summary': summary.id}


def _implementations(site, conn):
    """A cabinet decision for Finance (with a report carrying an attachment, a1), one
    implemented, one for Sports."""
    from kp_workspace.access import Officer
    from kp_workspace.audit import Actor, ensure_audit_log
    from kp_workspace.implementation import assign, report
    actor = Actor('matrix', '127.0.0.1', ensure_audit_log(conn))

    def officer(login):
        return Officer(site['principals'].users[login], site, actor)
    found = {'missing': 'i999999'}
    today = datetime.datetime.now(datetime.timezone.utc).date()
    for state, dept, reporter in (('open', 'finance', 'so.finance'),
                                  ('implemented', 'finance', 'so.finance'),
                                  ('other_department', 'sports', 'so.sports')):
        item = assign(site, officer('cs'), department=dept, source_id=f'matrix/{state}',
                      meeting_title='Matrix meeting', meeting_date=today, item_number=1,
                      subject=f'Matrix decision ({state})', decision_text='Approved.',
                      due=today + datetime.timedelta(days=30))
        report(item, officer(reporter), 'in_progress', 'Started.',
               uploads=[(io.BytesIO(PNG), 'scan.png')])
        if state == 'implemented':
            report(item, officer(reporter), 'implemented', 'Done.')
        found[state] = item.id
    return found


def _receipt(site, officer, state):
    """A letter registered by the Finance diary (by a Sports diary for
    ``other_department``), marked to the officer, or put into a file of theirs."""
    from kp_workspace.content_types.casefile import open_file
    from kp_workspace.content_types.receipt import register_receipt
    from kp_workspace.workflows.receipt import RECEIPT
    dept = 'sports' if state == 'other_department' else 'finance'
    diary = officer('diary.sports' if state == 'other_department' else 'diary.finance')
    receipt = register_receipt(site['departments'][dept], diary, 'A sender',
                               f'Matrix letter ({state})', 'post', io.BytesIO(PNG), 'scan.png')
    if state in ('marked', 'in_file'):
        RECEIPT.run(receipt, 'mark', diary, to_post='so-budget-finance')
    if state == 'in_file':
        who = officer('so.finance')
        casefile = open_file(site['departments']['finance'], who, 'Matrix file for a letter')
        RECEIPT.run(receipt, 'file', who, file=casefile.id)
    return {'receipt': receipt.id}


# --- the clients ------------------------------------------------------------------------

class Client:
    """One who: a browser session (signed in unless anonymous) and an API token."""

    def __init__(self, wsgi, who, n):
        self.who, self.login = who, WHO[who]
        self.browser = Browser(wsgi, extra_environ={'REMOTE_ADDR': f'10.77.0.{n + 1}'})
        self.token = None
        if self.login:
            self.browser.login(self.login)
            self.token = self.browser.token(self.login)
        self.csrf = self.browser.csrf()

    def fresh(self, wsgi, n):
        return Client(wsgi, self.who, n)

    def send(self, probe, path):
        headers = {}
        if probe.api and self.token:
            headers['Authorization'] = f'Bearer {self.token}'
        method = probe.method.lower()
        kw = {'headers': headers, 'status': '*', 'expect_errors': True}
        if probe.json is not None:
            return getattr(self.browser, f'{method}_json')(path, probe.json, **kw)
        if probe.form is not None:
            params = dict(probe.form)
            if not probe.api:
                params['csrf_token'] = self.csrf
            files = [('file', 'scan.png', PNG)] if probe.upload else None
            return getattr(self.browser, method)(path, params, upload_files=files, **kw)
        return getattr(self.browser, method)(path, **kw)


def message_of(res):
    """The user-facing message of an error response (JSON or page)."""
    if res.content_type == 'application/json':
        return res.json.get('error')
    found = re.search(r'<section class="card narrow">\s*<h1>(.*?)</h1>\s*<p>(.*?)</p>',
                      res.text, re.S)
    return found.groups() if found else res.text


def matches(expected, res):
    if expected == LOGIN:
        return res.status_int == 303 and '/login' in res.headers.get('Location', '')
    if isinstance(expected, set):
        return res.status_int in expected
    return res.status_int == expected


def _cells(probe):
    states = probe.states or (None,)
    states = list(states)
    for state in states:
        for who in WHO:
            yield who, state


@pytest.fixture(scope='module')
def world(tmp_path_factory, demo_template):
    var = copy_demo(demo_template, tmp_path_factory.mktemp('matrix') / 'var')
    wsgi = make_app(var, **{'kp_workspace.indexer': 'off', 'kp_workspace.login_delay_ms': '1',
                            'kp_workspace.login_max_delay_ms': '2'})
    objects = Objects(wsgi)
    fresh_files, fresh_summaries, fresh_receipts = {}, {}, {}
    for probes in MATRIX.values():
        for probe in probes:
            for who, state in _cells(probe):
                if _needs_fresh(probe, who, state):
                    pool = {id(FILE_STATES): fresh_files, id(SUMMARY_STATES): fresh_summaries,
                            id(RECEIPT_STATES): fresh_receipts}[id(probe.states)]
                    pool[state] = pool.get(state, 0) + 1
    objects.build(fresh_files, fresh_summaries, fresh_receipts)
    clients = {who: Client(wsgi, who, n) for n, who in enumerate(WHO)}
    yield wsgi, objects, clients
    transaction.abort()
    close_app(wsgi)


def _needs_fresh(probe, who, state):
    """A probe that moves its object gets a fresh one wherever the request reaches it
    (who may see it), so a wrongly allowed move cannot hide the next cell's answer."""
    return probe.moves and who in probe.states[state][0]


def test_every_route_has_an_entry(world):
    """A route added to ROUTES without an entry here fails; so does a view's method
    that no probe tries."""
    from kp_workspace.views import ROUTES
    names = [name for name, _pattern in ROUTES]
    assert sorted(set(names) - set(MATRIX)) == [], 'routes without an entry in MATRIX'
    assert sorted(set(MATRIX) - set(names)) == [], 'entries for routes that do not exist'
    wsgi = world[0]
    methods = {}
    for view in wsgi.registry.introspector.get_category('views'):
        intr = view['introspectable']
        if intr['route_name'] in MATRIX:
            declared = intr['request_methods'] or ('GET',)
            methods.setdefault(intr['route_name'], set()).update(
                {declared} if isinstance(declared, str) else declared)
    for name, wanted in methods.items():
        probed = {p.method for p in MATRIX[name]}
        assert wanted - {'HEAD'} <= probed, f'{name}: no probe for {wanted - probed}'


@pytest.mark.parametrize('route', sorted(MATRIX))
def test_route_answers_as_the_matrix_says(world, route):
    wsgi, objects, clients = world
    wrong = []
    for probe in MATRIX[route]:
        missing = {}
        cells = sorted(_cells(probe), key=lambda c: c[1] != 'missing')  # 'missing' first
        for who, state in cells:
            expected = expected_for(route, probe, who, state)
            client = clients[who]
            if probe.fresh_session and client.login:
                client = client.fresh(wsgi, 200 + len(wrong))
            path = objects.fill(probe, state, fresh=_needs_fresh(probe, who, state))
            res = client.send(probe, path)
            if not matches(expected, res):
                wrong.append(f'{probe!r} as {who} on {state}: expected {expected}, '
                             f'got {res.status_int} {str(message_of(res))[:120]}')
                continue
            if state == 'missing' and res.status_int == 404:
                missing[who] = message_of(res)
            elif expected == 404 and probe.states is not DEPARTMENT_STATES \
                    and who in missing and message_of(res) != missing[who]:
                wrong.append(f'{probe!r} as {who} on {state}: 404 says {message_of(res)!r}, '
                             f'not {missing[who]!r} as for one that does not exist')
    assert not wrong, '\n'.join([f'{len(wrong)} cells differ from the matrix:'] + wrong)


def test_every_status_the_matrix_expects_of_the_api_is_in_the_openapi_document():
    """Each status an API route answers someone in the matrix (a member of the cabinet
    kept out: 403; a file of another department: 404; ...) is one its operation lists."""
    from kp_workspace.views import ROUTES
    from kp_workspace.views.api.openapi import openapi_document
    patterns = dict(ROUTES)
    paths = openapi_document('http://localhost')['paths']
    missing = set()
    for route, probes in MATRIX.items():
        for probe in probes:
            if not probe.api or patterns[route] not in paths:
                continue
            responses = paths[patterns[route]][probe.method.lower()]['responses']
            for who in WHO:
                for state in probe.states or (None,):
                    expected = expected_for(route, probe, who, state)
                    for status in expected if isinstance(expected, set) else {expected}:
                        if isinstance(status, int) and str(status) not in responses:
                            missing.add(f'{probe.method} {patterns[route]}: {status}')
    assert not missing, sorted(missing)
