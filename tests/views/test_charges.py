"""Acting charge: a post's charge given for dates; the delegate acts for the post, every
line says so, signing uses the delegate's own certificate; the charge ends by itself."""
import datetime

from kp_workspace.populate import DEMO_PIN
from tests.conftest import confirm

TODAY = datetime.datetime.now(datetime.timezone.utc).date()


def day(offset):
    return (TODAY + datetime.timedelta(days=offset)).isoformat()


def give(app, tokens, login, post, to, start=0, end=7, status=201, reason='Earned leave'):
    return app.api('post_json', '/api/v1/charges', tokens(login), status=status,
                   params={'post': post, 'login': to, 'start': day(start), 'end': day(end),
                           'reason': reason})


def new_file(app, tokens, login='so.finance', subject='Budget of the treasury offices'):
    return app.api('post_json', '/api/v1/departments/finance/files', tokens(login),
                   status=201, params={'subject': subject}).json['id']


def test_the_delegate_acts_for_the_post_and_every_line_says_so(app, tokens, audit_entries):
    fid = new_file(app, tokens)
    # before the charge, so.hed (Higher Education) may not even see the file
    app.api('get', f'/api/v1/files/{fid}', tokens('so.hed'), status=404)
    charge = give(app, tokens, 'admin', 'so-budget-finance', 'so.hed').json
    assert charge['status'] == 'in_force'
    inbox = app.api('get', '/api/v1/inbox', tokens('so.hed')).json['items']
    assert fid in [r['id'] for r in inbox]
    app.api('post_json', f'/api/v1/files/{fid}/notes', tokens('so.hed'), status=201,
            params={'text': 'Examined during the leave of the Section Officer.'})
    app.api('post_json', f'/api/v1/files/{fid}/actions/forward', tokens('so.hed'),
            params={'to_post': 'secretary-finance'})
    app.login('secretary.finance')
    page = app.get(f'/files/{fid}').text
    line = 'for Section Officer (Budget), Finance, by Bilal Afridi (acting)'
    assert page.count(line) == 2   # the note and the movement
    moved = [e for e in audit_entries() if e.action == 'file.forward'][0]
    assert moved.actor == 'so.hed' and dict(moved.details).get('acting') in (True, 'True')
    # the Section Officer herself keeps her post, and her own lines say nothing of acting
    assert 'Ayesha Khan (acting)' not in page


def test_a_charge_ends_by_itself_and_can_be_ended_early(app, tokens, open_site):
    fid = new_file(app, tokens)
    cid = give(app, tokens, 'admin', 'so-budget-finance', 'so.hed').json['id']
    app.api('get', f'/api/v1/files/{fid}', tokens('so.hed'))

    def move_days(site, _conn, by):
        charge = site.charges.get(cid)
        charge.start += datetime.timedelta(days=by)
        charge.end += datetime.timedelta(days=by)
    # its last day was yesterday: nothing is granted any more, without anyone acting
    open_site(lambda site, conn: move_days(site, conn, -8), commit=True)
    app.api('get', f'/api/v1/files/{fid}', tokens('so.hed'), status=404)
    app.api('post_json', f'/api/v1/files/{fid}/notes', tokens('so.hed'), status=404,
            params={'text': 'Too late.'})
    assert fid not in [r['id'] for r in app.api('get', '/api/v1/inbox',
                                                tokens('so.hed')).json['items']]
    # not begun yet: nothing either
    open_site(lambda site, conn: move_days(site, conn, 10), commit=True)
    app.api('get', f'/api/v1/files/{fid}', tokens('so.hed'), status=404)
    # in force again, then ended early by the administrator (asked to confirm in the browser)
    open_site(lambda site, conn: move_days(site, conn, -2), commit=True)
    app.api('get', f'/api/v1/files/{fid}', tokens('so.hed'))
    app.login('admin')
    page = app.get('/charges')
    form = [f for f in page.forms.values() if f.action.endswith(f'/charges/{cid}/revoke')][0]
    confirm(form.submit(status=200))
    app.api('get', f'/api/v1/files/{fid}', tokens('so.hed'), status=404)
    assert app.api('get', '/api/v1/charges', tokens('so.hed')).json['items'][0]['status'] == \
        'revoked'


def test_an_officer_gives_the_charge_of_her_post_and_an_approver_approves(app, tokens):
    fid = new_file(app, tokens)
    asked = give(app, tokens, 'so.finance', 'so-budget-finance', 'so.sit').json
    assert asked['state'] == 'requested'
    app.api('get', f'/api/v1/files/{fid}', tokens('so.sit'), status=404)   # not yet
    action = f'/api/v1/charges/{asked["id"]}/actions/approve'
    # neither the one who gives it, nor the one who takes it, nor another department's
    # approver approves it
    for login in ('so.finance', 'so.sit', 'secretary.hed'):
        app.api('post_json', action, tokens(login), status={'secretary.hed': 404}.get(login, 403))
    assert app.api('post_json', action, tokens('secretary.finance')).json['status'] == 'in_force'
    app.api('get', f'/api/v1/files/{fid}', tokens('so.sit'))
    app.api('post_json', action, tokens('secretary.finance'), status=409)   # done already


def test_who_may_give_a_charge_and_what_is_refused(app, tokens):
    # only an administrator, or the post's own holder
    give(app, tokens, 'so.hed', 'so-budget-finance', 'so.sit', status=403)
    give(app, tokens, 'clerk.finance', 'so-budget-finance', 'so.sit', status=403)
    give(app, tokens, 'admin', 'no-such-post', 'so.sit', status=400)
    give(app, tokens, 'admin', 'so-budget-finance', 'nobody', status=400)
    give(app, tokens, 'admin', 'so-budget-finance', 'admin', status=403)   # administrators
    give(app, tokens, 'admin', 'so-budget-finance', 'so.finance', status=409)   # holds it
    give(app, tokens, 'admin', 'so-budget-finance', 'so.sit', start=3, end=1, status=400)
    give(app, tokens, 'admin', 'so-budget-finance', 'so.sit', start=-9, end=-2, status=400)
    give(app, tokens, 'admin', 'so-budget-finance', 'so.sit', start=0, end=400, status=400)
    give(app, tokens, 'admin', 'so-budget-finance', 'so.sit', reason='', status=400)
    app.api('post_json', '/api/v1/charges', tokens('admin'), status=400,
            params={'post': 'so-budget-finance', 'login': 'so.sit', 'start': '31/12/2026',
                    'end': day(3), 'reason': 'Leave'})
    give(app, tokens, 'admin', 'so-budget-finance', 'so.sit')
    give(app, tokens, 'admin', 'so-budget-finance', 'so.sit', start=5, end=9, status=409)
    # a charge is seen by those it concerns only
    assert app.api('get', '/api/v1/charges', tokens('so.sports')).json['items'] == []
    assert len(app.api('get', '/api/v1/charges', tokens('so.sit')).json['items']) == 1


def test_the_delegate_signs_with_their_own_certificate_and_pin(app, tokens):
    """The demo notification waits with the Secretary Finance; the Chief Secretary, holding
    that post's charge, approves and signs it with his own PIN."""
    give(app, tokens, 'admin', 'secretary-finance', 'cs')
    inbox = app.api('get', '/api/v1/inbox', tokens('cs')).json['items']
    fid = [r['id'] for r in inbox if r['number'].startswith('FD/')][0]
    draft = app.api('get', f'/api/v1/files/{fid}', tokens('cs')).json['drafts'][0]
    did = draft['id']
    app.api('post_json', f'/api/v1/drafts/{did}/actions/approve', tokens('cs'))
    app.api('post_json', f'/api/v1/drafts/{did}/actions/sign', tokens('cs'), status=403,
            params={'pin': '000000'})
    signed = app.api('post_json', f'/api/v1/drafts/{did}/actions/sign', tokens('cs'),
                     params={'pin': DEMO_PIN}).json
    assert [(s['login'], s['name'], s['post']) for s in signed['signatures']] == \
        [('cs', 'Chief Secretary', 'for Secretary Finance (acting)')]


def test_alerts_reach_the_delegate(app, tokens):
    give(app, tokens, 'admin', 'secretary-finance', 'so.hed')
    fid = new_file(app, tokens, subject='Sent to the Secretary while away')
    app.api('post_json', f'/api/v1/files/{fid}/actions/forward', tokens('so.finance'),
            params={'to_post': 'secretary-finance'})
    alerts = app.api('get', '/api/v1/alerts', tokens('so.hed')).json['items']
    assert alerts and alerts[0]['item_id'] == fid


def test_the_charges_page(app, tokens):
    app.login('so.finance')
    page = app.get('/charges')
    form = [f for f in page.forms.values() if 'reason' in f.fields][0]
    form['login'] = 'so.sit'
    form['start'], form['end'], form['reason'] = day(1), day(10), 'Hajj leave'
    res = form.submit(status=303).follow()
    assert 'once an approver of the department approves' in res.text
    assert 'waiting for approval' in res.text and 'Hajj leave' in res.text
    form = [f for f in res.forms.values() if 'reason' in f.fields][0]
    form['login'] = 'so.sit'
    form['start'], form['end'], form['reason'] = day(3), day(1), 'Wrong way round'
    res = form.submit(status=400)
    assert 'The last day comes before the first.' in res.text
    approver = type(app)(app.app)
    approver.login('secretary.finance')
    page = approver.get('/charges')
    form = [f for f in page.forms.values() if f.action.endswith('/approve')][0]
    assert 'approved, not begun' in form.submit(status=303).follow().text
