"""The life of a file and of a summary in the browser, as the demo journey goes."""
import re

import pytest

from kp_workspace.populate import DEMO_PIN
from tests.conftest import confirm
from tests.views.test_api_attachments import pdf_bytes


def open_new_file(browser, subject='Purchase of office furniture', **fields):
    form = browser.get('/departments/finance/files/new').forms['kpw-form']
    form['subject'] = subject
    for name, value in fields.items():
        form[name] = value
    res = form.submit('open_file', status=303)
    return res.location.rsplit('/', 1)[1], res.follow()


def form_by_action(page, suffix):
    for form in page.forms.values():
        if form.action.endswith(suffix):
            return form
    raise AssertionError(f'no form posting to …{suffix}')


@pytest.mark.storages
def test_file_from_so_to_secretary_and_back_to_closure(app, other):
    app.login('so.finance')
    home = app.get('/')
    assert 'Open a new file' in home.text and 'Dashboard' not in home.text
    fid, page = open_new_file(app, priority='urgent')
    assert re.search(r'File FD/\d{4}/0002 opened\.', page.text)  # after the demo file's 0001
    assert 'No notes yet.' in page.text and 'Nothing attached yet.' in page.text

    form = form_by_action(page, f'/files/{fid}/notes')
    form['text'] = 'Quotations from three firms are placed below.\nLowest: Rs 2.1 million.'
    page = form.submit(status=303).follow()
    assert 'Note 1 added.' in page.text
    form = form_by_action(page, f'/files/{fid}/attachments')
    form['title'] = 'Quotation, Khyber Furnishers'
    form['file'] = ('quote.pdf', pdf_bytes())
    page = form.submit(status=303).follow()
    assert 'Quotation, Khyber Furnishers' in page.text
    form = form_by_action(page, f'/files/{fid}/drafts')
    form['kind'] = 'letter'
    form['subject'] = 'Supply order'
    form['body'] = 'You are requested to supply...'
    page = form.submit(status=303).follow()
    page = form_by_action(page, '/drafts/d1/actions/submit').submit(status=303).follow()
    assert 'put up for approval' in page.text       # what happened
    assert '(awaiting approval)' in page.text       # and the state it is in now

    form = form_by_action(page, f'/files/{fid}/actions/forward')
    form['to_post'] = 'secretary-finance'
    form['remarks'] = 'Submitted for approval'
    page = form.submit(status=303).follow()
    assert 'With: <strong>Secretary Finance</strong>' in page.text
    assert 'New note' not in page.text  # the sender no longer writes on it

    other.login('secretary.finance')
    assert 'Alerts (2)' in other.get('/').text  # this file and the demo file
    inbox = other.get('/inbox')
    assert 'Purchase of office furniture' in inbox.text
    page = inbox.click('FD/', index=0)  # urgent: above the routine demo file
    page = form_by_action(page, '/drafts/d1/actions/approve').submit(status=303).follow()
    assert '(approved)' in page.text
    form = form_by_action(page, f'/files/{fid}/notes')
    form['text'] = 'Approved. Issue the supply order.'
    page = form.submit(status=303).follow()
    form = form_by_action(page, f'/files/{fid}/actions/return')
    page = form.submit(status=303).follow()
    assert 'With: <strong>Section Officer (Budget), Finance</strong>' in page.text
    assert 'Purchase of office furniture' not in other.get('/inbox').text
    assert 'Purchase of office furniture' in other.get('/sent').text

    page = app.get(f'/files/{fid}')
    # the approved draft awaits signature: the file cannot be closed over it
    refused = form_by_action(page, f'/files/{fid}/actions/close').submit(status=409)
    assert 'cannot be closed' in refused.text and 'd1' in refused.text
    page = form_by_action(page, '/drafts/d1/actions/revise').submit(status=303).follow()
    asked = form_by_action(page, f'/files/{fid}/actions/close').submit(status=200)
    page = confirm(asked).follow()
    assert 'closed (in the record room)' in page.text
    assert re.search(r'FD/\d{4}/0002 closed and sent to the record room\.', page.text)
    register = page.text[page.text.index('Movement register'):]
    assert [m for m in ('Sent on', 'Sent back', 'Closed and sent to the record room')
            if f'<strong>{m}</strong>' in register] == \
        ['Sent on', 'Sent back', 'Closed and sent to the record room']


@pytest.mark.storages
def test_notes_can_be_edited_until_the_file_moves(app):
    app.login('so.finance')
    fid, page = open_new_file(app)
    form = form_by_action(page, f'/files/{fid}/notes')
    form['text'] = 'First version'
    page = form.submit(status=303).follow()
    edit = app.get(f'/files/{fid}/notes/1/edit')
    edit.forms[1]['text'] = 'Second version'
    page = edit.forms[1].submit(status=303).follow()
    assert 'Second version' in page.text and 'edited' in page.text
    form = form_by_action(page, f'/files/{fid}/actions/forward')
    form['to_post'] = 'secretary-finance'
    page = form.submit(status=303).follow()
    assert 'Edit</a>' not in page.text
    edit = app.get(f'/files/{fid}/notes/1/edit')
    edit.forms[1]['text'] = 'Third version'
    res = edit.forms[1].submit(status=409)
    assert 'is frozen' in res.text
    assert 'Second version' in app.get(f'/files/{fid}').text


def test_refusals_show_on_the_page_with_their_status(app):
    app.login('so.finance')
    fid, page = open_new_file(app)
    form = form_by_action(page, f'/files/{fid}/notes')
    form['text'] = '   '
    res = form.submit(status=400)
    assert 'This cannot be empty.' in res.text and 'role="alert"' in res.text
    form = form_by_action(page, f'/files/{fid}/attachments')
    form['file'] = ('fake.pdf', b'not really a pdf')
    res = form.submit(status=415)
    assert 'This kind of file is not accepted' in res.text
    res = app.post(f'/files/{fid}/actions/return', {'csrf_token': app.csrf()}, status=409)
    assert 'There is nobody to send it back to' in res.text


def test_forged_action_without_csrf_changes_nothing(app):
    app.login('so.finance')
    fid, _page = open_new_file(app)
    app.post(f'/files/{fid}/actions/forward', {'to_post': 'secretary-finance'}, status=400)
    assert 'With: <strong>Section Officer (Budget), Finance</strong>' in app.get(f'/files/{fid}')


def test_invisible_file_pages_are_404(app, other):
    app.login('so.finance')
    fid, _page = open_new_file(app, classification='secret')
    for login in ('so.hed', 'admin', 'clerk.finance', 'secretary.finance'):
        other.login(login)
        assert 'files you may not open look the same as missing ones' in other.get(
            f'/files/{fid}', status=404).text
        other.get(f'/files/{fid}/attachments/a1', status=404)
        other.post('/logout', {'csrf_token': other.csrf()}, status=303)
    app.get('/files/nothing-here', status=404)
    app.get('/summaries/nothing-here', status=404)


@pytest.mark.parametrize('login, path, status', [
    ('so.hed', '/departments/finance/files/new', 403),
    ('admin', '/departments/finance/files/new', 403),
    ('clerk.finance', '/departments/finance/files/new', 403),
    ('so.finance', '/departments/finance', 403),
    ('secretary.finance', '/departments/finance', 200),
    ('secretary.finance', '/departments/higher-education', 403),
    ('so.finance', '/departments/nowhere/files/new', 404),
])
def test_department_pages_by_role(app, login, path, status):
    app.login(login)
    app.get(path, status=status)


def test_dashboard_counts_and_desk_time(app, other):
    app.login('so.finance')
    fid, page = open_new_file(app)
    open_new_file(app, subject='Second file')
    form = form_by_action(page, f'/files/{fid}/actions/forward')
    form['to_post'] = 'secretary-finance'
    form.submit(status=303)
    other.login('secretary.finance')
    board = other.get('/departments/finance')
    text = re.sub(r'\s+', ' ', board.text)
    # two new files and the demo file, which waits with the Secretary too
    assert '<dt>Open</dt><dd>3</dd>' in text
    assert re.search(r'Section Officer \(Budget\), Finance</td><td>1</td>', text)
    assert re.search(r'Secretary Finance</td><td>2</td>', text)
    # (the demo file and this one left the Section Officer; so did the two demo files
    # the record room holds, closed there)
    assert '(4 moves)' in text


@pytest.mark.storages
def test_summary_from_finance_to_cm_and_back_in_the_browser(app, other):
    app.login('so.finance')
    form = app.get('/departments/finance/summaries/new').forms['kpw-form']
    form['subject'] = 'Revision of pension rules'
    form['background'] = 'The rules date from 1985.'
    form['proposal'] = 'Adopt the revised rules.'
    form['decision_sought'] = 'Approval.'
    page = form.submit('draft_summary', status=303).follow()
    sid = page.request.path.rsplit('/', 1)[1]
    form = form_by_action(page, f'/summaries/{sid}/actions/submit')
    form['to_post'] = 'secretary-finance'
    form.submit(status=303)

    def act(login, action, pin=None, **fields):
        other.login(login)
        page = other.get(f'/summaries/{sid}')
        form = form_by_action(page, f'/summaries/{sid}/actions/{action}')
        for k, v in fields.items():
            form[k] = v
        if pin is None:
            page = form.submit(status=303).follow()
        else:  # the PIN is asked on the confirmation page
            page = confirm(form.submit(status=200), pin=pin).follow()
        other.post('/logout', {'csrf_token': other.csrf()}, status=303)
        return page

    act('secretary.finance', 'forward', to_post='chief-secretary')
    act('cs', 'put_up', to_post='chief-minister')
    page = act('cm', 'decide', decision='approved', remarks='Approved as proposed.',
               pin=DEMO_PIN)
    assert 'Decision of the Chief Minister:' in page.text
    alerts = app.get('/alerts')
    assert 'Revision of pension rules' in alerts.text and 'Mark all as read' in alerts.text
    alerts.forms[1].submit(status=303)
    assert 'Mark all as read' not in app.get('/alerts').text
    page = app.get(f'/summaries/{sid}')
    assert 'Approved as proposed.' in page.text and 'decided' in page.text


def test_desk_pages_and_empty_states(app):
    app.login('admin')
    assert 'You hold no post' in app.get('/inbox').text
    app.get('/overdue')
    app.get('/pending?offset=x', status=400)
    app.post('/logout', {'csrf_token': app.csrf()}, status=303)
    app.login('so.hed')
    for path in ('/inbox', '/pending', '/overdue', '/sent'):
        assert 'Nothing here. Well done.' in app.get(path).text
    assert 'No alerts yet.' in app.get('/alerts').text
