"""Work as officers do it: asked before what cannot be undone, the likely action first,
plain words after each step, and post pickers that offer only what the step accepts."""
import re

import pytest

from kp_workspace.populate import DEMO_PIN
from tests.conftest import check, confirm
from tests.views.test_files_browser import form_by_action, open_new_file


def visible(page):
    """The text a reader sees (tags and attribute values, action URLs among them, gone)."""
    return re.sub(r'\s+', ' ', re.sub(r'<[^>]+>', ' ', page.text))


def demo_file(browser):
    """The demo file the Section Officer put up to the Secretary (with its draft)."""
    page = browser.get('/inbox').click('FD/', index=0)
    return page.request.path.rsplit('/', 1)[1], page


def state_of(app, token, path):
    return app.api('get', f'/api/v1/{path}', token).json


def buttons(page, section_start):
    """The submit buttons (class, label) after ``section_start`` in the page, in order."""
    html = page.text[page.text.index(section_start):]
    return re.findall(r'<button type="submit" class="([^"]+)"[^>]*>([^<]+)</button>', html)


# --- confirmation -------------------------------------------------------------------------

def test_issuing_a_notification_asks_first_and_the_api_does_not(app, tokens, audit_entries):
    app.login('secretary.finance')
    fid, page = demo_file(app)
    page = form_by_action(page, '/drafts/d1/actions/approve').submit(status=303).follow()
    assert 'Notification “Revision of pension rates” approved.' in page.text
    form = form_by_action(page, '/drafts/d1/actions/sign')
    form['pin'] = DEMO_PIN
    page = form.submit(status=303).follow()
    number = re.search(r'signed: No\. (FD/N/\d{4}/\d+), dated \d\d \w{3} \d{4}\.',
                       page.text).group(1)

    issue = form_by_action(page, '/drafts/d1/actions/issue')
    asked = issue.submit(status=200)
    text = visible(asked)
    assert (f'Issue Notification “Revision of pension rates” on {page.html.h1.span.text}? '
            f'It will go out as No. {number} and be published on the public notifications '
            'page. This cannot be undone.') in text
    assert 'Yes, issue' in text and 'Cancel' in text
    token = tokens('secretary.finance')
    draft = state_of(app, token, f'files/{fid}')['drafts'][0]
    assert draft['state'] == 'signed' and draft['issued_at'] is None
    assert 'Revision of pension rates' not in app.get('/public/notifications').text
    assert 'draft.issued' not in [e.action for e in audit_entries(5)]

    # a forged or missing token on the confirmation is refused and changes nothing
    form = [f for f in asked.forms.values() if 'confirmed' in f.fields][0]
    real = form['csrf_token'].value
    form['csrf_token'] = 'f' * 40
    form.submit(status=400)
    app.post(form.action, {'confirmed': '1'}, status=400)
    assert state_of(app, token, f'files/{fid}')['drafts'][0]['state'] == 'signed'

    form['csrf_token'] = real
    page = confirm(asked).follow()
    assert re.search(rf'Notification “Revision of pension rates” issued as No\. {number}, '
                     r'dated \d\d \w{3} \d{4}\.', page.text)
    assert state_of(app, token, f'files/{fid}')['drafts'][0]['state'] == 'issued'
    assert 'Revision of pension rates' in app.get('/public/notifications').text


def test_the_api_issues_and_closes_without_asking(app, tokens):
    token = tokens('so.finance')
    fid = app.api('post_json', '/api/v1/departments/finance/files', token, status=201,
                  params={'subject': 'Asked nothing', 'classification': 'routine',
                          'priority': 'routine'}).json['id']
    data = app.api('post_json', f'/api/v1/files/{fid}/actions/close', token, params={}).json
    assert data['state'] == 'closed'


def test_closing_a_file_asks_first(app, tokens):
    app.login('so.finance')
    fid, page = open_new_file(app)
    close = form_by_action(page, f'/files/{fid}/actions/close')
    close['remarks'] = 'Nothing more to do'
    asked = close.submit(status=200)
    assert 'and send it to the record room?' in asked.text
    assert 'name="remarks" value="Nothing more to do"' in asked.text
    assert f'href="http://localhost/files/{fid}"' in asked.text  # Cancel: back to the file
    token = tokens('so.finance')
    assert state_of(app, token, f'files/{fid}')['state'] == 'open'
    page = confirm(asked).follow()
    assert re.search(r'FD/\d{4}/0002 closed and sent to the record room\.', page.text)
    data = state_of(app, token, f'files/{fid}')
    assert data['state'] == 'closed' and data['movements'][-1]['remarks'] == 'Nothing more to do'


def test_a_refused_step_is_refused_before_it_is_asked(app):
    """Closing over a draft that awaits approval is refused at once, not after a yes."""
    app.login('secretary.finance')
    fid, page = demo_file(app)
    res = form_by_action(page, f'/files/{fid}/actions/close').submit(status=409)
    assert 'cannot be closed' in res.text and 'confirmed' not in res.text


def summary_with_cm(app, other):
    """A new Finance summary, put up through the Secretary and the CS to the CM."""
    app.login('so.finance')
    form = app.get('/departments/finance/summaries/new').forms['kpw-form']
    form['subject'] = 'Grant to flood-hit districts'
    form['background'] = 'The floods of August.'
    form['proposal'] = 'A grant of Rs 500 million.'
    form['decision_sought'] = 'Approval of the grant.'
    page = form.submit('draft_summary', status=303).follow()
    sid = page.request.path.rsplit('/', 1)[1]
    pages = [page]

    def act(browser, action, **fields):
        page = browser.get(f'/summaries/{sid}')
        pages.append(page)
        form = form_by_action(page, f'/summaries/{sid}/actions/{action}')
        for k, v in fields.items():
            form[k] = v
        page = form.submit(status=303).follow()
        pages.append(page)
        return page

    page = act(app, 'submit', to_post='secretary-finance')
    number = page.html.h1.span.text
    assert f'Summary {number} put up to Secretary Finance.' in page.text
    other.login('secretary.finance')
    page = act(other, 'forward', to_post='chief-secretary')
    assert f'{number} sent to Chief Secretary.' in page.text
    other.post('/logout', {'csrf_token': other.csrf()}, status=303)
    other.login('cs')
    page = act(other, 'put_up', to_post='chief-minister')
    assert f'Summary {number} put up to the Chief Minister.' in page.text
    other.post('/logout', {'csrf_token': other.csrf()}, status=303)
    other.login('cm')
    return sid, number, pages


def test_the_chief_ministers_decision_has_no_answer_chosen_and_asks_for_the_pin(
        app, other, tokens, audit_entries):
    sid, number, pages = summary_with_cm(app, other)
    page = other.get(f'/summaries/{sid}')
    select = page.html.find('select', id='decision')
    first = select.find('option')
    assert first['value'] == '' and first.text == 'Choose the decision…'
    assert select.has_attr('required') and len(select.find_all('option', selected=True)) <= 1
    assert first.has_attr('selected')
    form = form_by_action(page, f'/summaries/{sid}/actions/decide')
    assert 'pin' not in form.fields  # asked on the confirmation page
    # no decision chosen: refused by the domain (400), nothing asked
    res = form.submit(status=400)
    assert 'Choose one of' in res.text and 'confirmed' not in res.text
    form['decision'] = 'approved_with_changes'
    form['remarks'] = 'Release in two parts.'
    asked = form.submit(status=200)
    assert (f'Record the decision “Approved with changes” on summary {number} “Grant to '
            'flood-hit districts” and sign it?') in visible(asked)
    assert 'name="pin"' in asked.text and 'Yes, record and sign' in asked.text
    assert state_of(other, tokens('cm'), f'summaries/{sid}')['state'] == 'with_cm'
    # a PIN sent with the first post is not written into the confirmation page
    fields = {k: v for k, v in form.submit_fields()}
    fields['pin'] = DEMO_PIN
    asked_again = other.post(form.action, fields, status=200)
    assert DEMO_PIN not in asked_again.text
    # a wrong PIN on the confirmation page: refused, nothing decided
    confirm(asked, status=403, pin='000000')
    assert state_of(other, tokens('cm'), f'summaries/{sid}')['state'] == 'with_cm'
    page = confirm(asked, pin=DEMO_PIN).follow()
    assert re.search(r'Decision on FD/S/\d{4}/\d{4} recorded and signed: Approved with '
                     r'changes\. It is back with Section Officer \(Budget\), Finance\.', page.text)
    data = state_of(other, tokens('cm'), f'summaries/{sid}')
    assert data['state'] == 'decided' and data['decision_remarks'] == 'Release in two parts.'


def test_a_summary_journey_shows_no_internal_names(app, other):
    sid, number, pages = summary_with_cm(app, other)
    page = other.get(f'/summaries/{sid}')
    pages.append(page)
    form = form_by_action(page, f'/summaries/{sid}/actions/decide')
    form['decision'] = 'approved'
    asked = form.submit(status=200)
    pages.append(asked)
    decided = confirm(asked, pin=DEMO_PIN).follow()
    pages += [decided, app.get(f'/summaries/{sid}')]
    for browser in (app, other):
        pages += [browser.get(p) for p in ('/', '/inbox', '/sent', '/alerts')]
    assert f'Decision on {number} recorded and signed: Approved.' in decided.text
    register = visible(decided)
    for title in ('Put up to the Secretary', 'Sent on', 'Put up to the Chief Minister',
                  'Decision of the Chief Minister'):
        assert title in register
    for page in pages:
        text = visible(page)
        for code in ('put_up', 'with_cm', 'Done:', 'submitted', 'approved_with_changes'):
            assert code not in text, (code, page.request.path)


def test_admin_relieve_and_transfer_ask_first(app, open_site):
    app.login('admin')
    page = app.get('/admin/posts/so-sports')
    holder = re.search(r'name="login" value="([^"]+)"', page.text).group(1)
    relieve = [f for f in page.forms.values() if f.fields.get('op')
               and f.fields['op'][0].value == 'relieve'][0]
    asked = relieve.submit(status=200)
    assert 'Relieve' in asked.text and 'of the post Section Officer' in asked.text
    assert 'Yes, relieve' in asked.text

    def holders(site, conn):
        return list(site['principals'].posts['so-sports'].holders)
    assert holders.__call__ and open_site(holders) == [holder]
    confirm(asked).follow()
    assert open_site(holders) == []

    page = app.get('/admin/posts/so-sports')
    form = page.forms['holder-form']
    form['login'] = holder
    asked = form.submit('op', value='transfer', status=200)
    assert 'Transfer the post Section Officer' in asked.text
    assert 'Yes, transfer the post' in asked.text
    assert open_site(holders) == []
    res = confirm(asked).follow()
    assert 'The post has been transferred to' in res.text
    assert open_site(holders) == [holder]


def test_revoking_a_certificate_asks_first(app, open_site):
    app.login('admin')
    page = app.get('/admin/signing')
    form = [f for f in page.forms.values() if f.fields.get('op')
            and f.fields['op'][0].value == 'revoke'][0]
    serial = form['serial'].value
    form['reason'] = 'Key lost'
    asked = form.submit(status=200)
    assert f'Revoke the signing certificate {serial} of' in asked.text
    assert 'This cannot be undone.' in asked.text

    def revoked(site, conn):
        return site.signing.certificates[serial].revoked_at is not None
    assert not open_site(revoked)
    page = confirm(asked).follow()
    assert f'Certificate {serial} revoked.' in page.text and open_site(revoked)
    # asked again for a revoked one: refused at once
    res = app.post('/admin/signing', {'csrf_token': app.csrf(), 'op': 'revoke',
                                      'serial': serial}, status=409)
    assert 'already revoked' in res.text


# --- the primary action -------------------------------------------------------------------

def test_the_secretary_sees_the_draft_put_up_first_and_large(app):
    app.login('secretary.finance')
    fid, page = demo_file(app)
    html = page.text
    # the drafts come before the noting sheet, the approval first and large
    assert html.index('id="drafts-h"') < html.index('id="noting-h"')
    assert 'drafts-first' in html
    found = buttons(page, 'id="drafts-h"')
    assert found[0] == ('btn btn-primary btn-large', 'approve')
    # no other button on the page is primary-and-large
    assert html.count('btn-large') == 1
    page = form_by_action(page, '/drafts/d1/actions/approve').submit(status=303).follow()
    assert buttons(page, 'id="drafts-h"')[0] == ('btn btn-primary btn-large', 'sign')


def test_the_section_officer_sees_forward_first(app):
    app.login('so.finance')
    fid, page = open_new_file(app)
    html = page.text
    assert html.index('id="noting-h"') < html.index('id="drafts-h"')
    found = buttons(page, 'id="actions-h"')
    assert found[0] == ('btn btn-primary btn-large', 'forward')
    close = [b for b in found if b[1] == 'close']
    assert close == [('btn', 'close')]
    assert 'action-secondary' in html and html.count('btn-large') == 1


# --- post pickers -------------------------------------------------------------------------

def picker(page, action):
    """``{department: [post ids]}`` that the post picker of ``action`` offers."""
    select = page.html.find('select', id=f'to-{action}')
    return {g['label']: [o['value'] for o in g.find_all('option')]
            for g in select.find_all('optgroup')}


@pytest.fixture
def many_posts(open_site):
    """300 more posts (in every department), as a large government has."""
    from kp_workspace.audit import Actor, ensure_audit_log

    def add(site, conn):
        actor = Actor('test', '127.0.0.1', ensure_audit_log(conn))
        names = sorted(site['departments'])
        for n in range(300):
            dept = names[n % len(names)]
            site['principals'].add_post(actor, site['departments'], f'extra-{n}',
                                        f'Assistant {n:03d}, {dept}', dept,
                                        ('approver',) if n % 50 == 0 else ('officer',))
    open_site(add, commit=True)
    return 300


def test_pickers_offer_only_the_posts_each_step_accepts(app, other, many_posts):
    app.login('so.finance')
    form = app.get('/departments/finance/summaries/new').forms['kpw-form']
    for name, value in (('subject', 'Picker test'), ('background', 'B.'), ('proposal', 'P.'),
                        ('decision_sought', 'D.')):
        form[name] = value
    page = form.submit('draft_summary', status=303).follow()
    sid = page.request.path.rsplit('/', 1)[1]
    groups = picker(page, 'submit')
    # only the approvers of Finance: the Secretary and the extra approvers made in Finance
    assert list(groups) == ['Finance Department']
    finance = groups['Finance Department']
    assert 'secretary-finance' in finance and 'so-budget-finance' not in finance
    extra = [p for p in finance if p.startswith('extra-')]
    assert extra and all(int(p[6:]) % 50 == 0 for p in extra)
    # a post it does not accept is still refused by the domain
    res = app.post(f'/summaries/{sid}/actions/submit',
                   {'csrf_token': app.csrf(), 'to_post': 'extra-1'}, status=409)
    assert 'first put up to the Secretary' in res.text

    form = form_by_action(page, f'/summaries/{sid}/actions/submit')
    form['to_post'] = 'secretary-finance'
    form.submit(status=303)
    other.login('secretary.finance')
    page = other.get(f'/summaries/{sid}')
    assert picker(page, 'put_up') == {"Chief Minister's Secretariat": ['chief-minister']}
    forward = picker(page, 'forward')
    posts = [p for ps in forward.values() for p in ps]
    assert 'secretary-finance' not in posts  # not the post that holds it
    assert len(posts) >= 300 and len(forward) >= 6
    assert list(forward) == sorted(forward)
    for ids in forward.values():
        titles = [re.search(rf'value="{p}">([^<]+)<', page.text).group(1) for p in ids]
        assert titles == sorted(titles)
    assert 'data-searchable' in page.text
    res = other.post(f'/summaries/{sid}/actions/put_up',
                     {'csrf_token': other.csrf(), 'to_post': 'extra-0'}, status=409)
    assert 'Only the Chief Minister decides summaries' in res.text


def test_a_file_is_not_forwarded_to_the_post_that_holds_it(app):
    app.login('so.finance')
    fid, page = open_new_file(app)
    posts = [p for ps in picker(page, 'forward').values() for p in ps]
    assert 'so-budget-finance' not in posts and 'secretary-finance' in posts
    res = app.post(f'/files/{fid}/actions/forward',
                   {'csrf_token': app.csrf(), 'to_post': 'so-budget-finance'}, status=409)
    assert 'It is already with Section Officer (Budget), Finance.' in res.text
    res = app.post(f'/files/{fid}/actions/forward',
                   {'csrf_token': app.csrf(), 'to_post': 'nowhere'}, status=400)
    assert 'There is no post' in res.text


def test_the_picker_script_is_loaded_from_the_site():
    from pathlib import Path
    import kp_workspace
    root = Path(kp_workspace.__file__).parent
    assert (root / 'static' / 'picker.js').read_text().count('data-searchable') >= 1
    layout = (root / 'templates' / 'layout.pt').read_text()
    assert re.search(r'<script src="[^"]*picker\.js[^"]*" defer></script>', layout)


# --- the post directory behind the pickers (kp_workspace.security.directory) --------------

def picker_list(page, action):
    """``[(department, [(post id, title), ...]), ...]`` of ``action``'s picker, in order."""
    select = page.html.find('select', id=f'to-{action}')
    return [(g['label'], [(o['value'], o.text) for o in g.find_all('option')])
            for g in select.find_all('optgroup')]


def forward_before(open_site, holder, locale='en'):
    """What the forward picker offered before the directory, walking every post."""
    from types import SimpleNamespace

    from kp_workspace.workflows.casefile import another_post
    from tests.security.test_directory import offered_before
    item = SimpleNamespace(holder=holder)
    return open_site(lambda site, _conn: offered_before(
        site, locale, lambda post: another_post(item, None, post)))


def test_pickers_offer_what_they_did_and_never_a_post_kept_from_another_page(
        app, other, open_site, many_posts):
    app.login('so.finance')
    fid, page = open_new_file(app)
    before = forward_before(open_site, 'so-budget-finance')
    assert picker_list(page, 'forward') == before
    form = form_by_action(page, f'/files/{fid}/actions/forward')
    form['to_post'] = 'secretary-finance'
    form.submit(status=303)
    other.login('secretary.finance')
    offered = picker_list(other.get(f'/files/{fid}'), 'forward')
    assert offered == forward_before(open_site, 'secretary-finance')
    posts = [p for _d, ps in offered for p, _t in ps]
    assert 'secretary-finance' not in posts and 'so-budget-finance' in posts
    # the options kept from these pages do not bring back the holder
    _fid, page = open_new_file(app, subject='Another file')
    assert picker_list(page, 'forward') == before
    app.set_cookie('kpw_locale', 'ur')
    assert picker_list(app.get(f'/files/{_fid}'), 'forward') == \
        forward_before(open_site, 'so-budget-finance', 'ur')


def test_the_picker_follows_posts_added_renamed_and_removed(app, other, open_site):
    app.login('so.finance')
    fid, page = open_new_file(app)
    assert picker_list(page, 'forward') == forward_before(open_site, 'so-budget-finance')
    other.login('admin')
    form = other.get('/admin/posts/+add').forms['kpw-form']
    form['post_id'] = 'ds-finance'
    form['title'] = 'Deputy Secretary, Finance'
    form['department'] = 'finance'
    check(form, 'officer')
    form.submit('create_post', status=303)
    groups = dict(picker_list(app.get(f'/files/{fid}'), 'forward'))
    assert ('ds-finance', 'Deputy Secretary, Finance') in groups['Finance Department']

    form = other.get('/admin/posts/ds-finance').forms['kpw-form']
    form['title'] = 'Additional Secretary, Finance'
    form.submit('save', status=303)
    groups = dict(picker_list(app.get(f'/files/{fid}'), 'forward'))
    assert ('ds-finance', 'Additional Secretary, Finance') in groups['Finance Department']

    form = other.get('/admin/departments/finance').forms['kpw-form']
    form['title'] = 'Finance and Planning Department'
    form.submit('save', status=303)
    page = app.get(f'/files/{fid}')
    groups = dict(picker_list(page, 'forward'))
    assert 'Finance Department' not in groups
    assert ('ds-finance', 'Additional Secretary, Finance') in groups[
        'Finance and Planning Department']
    assert picker_list(page, 'forward') == forward_before(open_site, 'so-budget-finance')

    # removed (as a domain step that removes a post would), by another connection
    open_site(lambda site, _conn: site['principals'].posts.remove('ds-finance'), commit=True)
    posts = [p for _d, ps in picker_list(app.get(f'/files/{fid}'), 'forward') for p, _t in ps]
    assert 'ds-finance' not in posts and 'secretary-finance' in posts


@pytest.mark.parametrize('storage', ['zeo'], indirect=True)
def test_a_post_renamed_by_another_process_is_seen_by_the_picker(app, var_dir):
    """Two apps on one ZEO server, as ``kpw serve --workers 2`` runs them: what one
    process kept is made again when the other commits a change."""
    import time

    from tests.conftest import CLIENT, Browser, close_app, make_app
    app.login('so.finance')
    fid, page = open_new_file(app)
    assert ('secretary-finance', 'Secretary Finance') in dict(
        picker_list(page, 'forward'))['Finance Department']
    second = make_app(var_dir, **{'kp_workspace.indexer': 'off'})
    try:
        admin = Browser(second, extra_environ={'REMOTE_ADDR': CLIENT})
        admin.login('admin')
        form = admin.get('/admin/posts/secretary-finance').forms['kpw-form']
        form['title'] = 'Secretary Finance and Planning'
        form.submit('save', status=303)
    finally:
        close_app(second)
    deadline = time.monotonic() + 30  # (ZEO tells the other clients soon after the commit)
    while True:
        finance = dict(picker_list(app.get(f'/files/{fid}'), 'forward'))['Finance Department']
        if ('secretary-finance', 'Secretary Finance and Planning') in finance:
            break
        assert time.monotonic() < deadline, finance
        time.sleep(0.1)
    assert ('secretary-finance', 'Secretary Finance') not in finance


def test_the_picker_escapes_what_a_post_is_called(app, open_site):
    from kp_workspace.audit import Actor, ensure_audit_log

    def add(site, conn):
        site['principals'].add_post(Actor('test', '127.0.0.1', ensure_audit_log(conn)),
                                    site['departments'], 'rnd-finance',
                                    'R&D <Cell> "Budget", Finance', 'finance', ('officer',))
    open_site(add, commit=True)
    app.login('so.finance')
    _fid, page = open_new_file(app)
    assert ('rnd-finance', 'R&D <Cell> "Budget", Finance') in dict(
        picker_list(page, 'forward'))['Finance Department']
    assert '<option value="rnd-finance">R&amp;D &lt;Cell&gt; "Budget", Finance</option>' \
        in page.text
