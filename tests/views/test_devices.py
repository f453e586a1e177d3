"""Devices in the browser: "My devices" (``/account/devices``) and the Devices section of
the administrator's user page.  Devices are made as the Super-App makes them, by
signing in through the API with a device name; signing one out asks first, needs the
CSRF token, is recorded, and ends the device's tokens for the API."""
import re

from kp_workspace.populate import DEMO_PASSWORD
from tests.conftest import confirm

EMPTY = 'No phone or app is signed in as you.'
ADMIN_EMPTY = 'No phone or app is signed in as this user.'
DATE = re.compile(r'\d\d [A-Z][a-z]+ \d{4} \d\d:\d\d')


def sign_in(app, login='so.finance', device='Phone'):
    """What the Super-App gets when it signs in as ``device``."""
    return app.post_json('/api/v1/auth/token', {'login': login, 'password': DEMO_PASSWORD,
                                                'device': device}, status=201).json


def works(app, signed_in):
    """Whether the device's access token and refresh token still work (both, or neither)."""
    me = app.get('/api/v1/me', headers={'Authorization': f'Bearer {signed_in["token"]}'},
                 status=(200, 401)).status_int == 200
    refreshed = app.post_json('/api/v1/auth/refresh',
                              {'refresh_token': signed_in['refresh_token']},
                              status=(201, 401))
    assert me == (refreshed.status_int == 201)
    if me:   # (the refresh spent the old one: keep the new pair)
        signed_in.update(token=refreshed.json['token'],
                         refresh_token=refreshed.json['refresh_token'])
    return me


def sign_out_form(page, device_id):
    forms = [f for f in page.forms.values()
             if f.action.endswith(f'/devices/{device_id}/sign-out')]
    assert len(forms) == 1, f'no "Sign out this device" form for {device_id}'
    return forms[0]


def test_my_devices_says_plainly_when_there_are_none(app):
    app.login('so.finance')
    home = app.get('/')
    assert 'href="http://localhost/account/devices"' in home.text
    page = home.click('My devices')
    assert page.request.path == '/account/devices'
    assert EMPTY in page.text
    assert 'Sign out this device' not in page.text and '<table' not in page.text


def test_my_devices_lists_the_devices_and_signs_one_out_after_asking(app, audit_entries):
    phone, tablet = sign_in(app, device="Ayesha's phone"), sign_in(app, device='Office tablet')
    sign_in(app, login='secretary.finance', device='Not hers')
    app.login('so.finance')
    page = app.get('/account/devices')
    assert EMPTY not in page.text and 'Not hers' not in page.text
    text = page.html.find('table').get_text(' ')
    assert text.index('Office tablet') < text.index('Ayesha')  # (newest first)
    assert len(DATE.findall(text)) == 4 and '10.20.30.40' in text
    for secret in (phone['token'], phone['refresh_token'], tablet['token'],
                   tablet['refresh_token']):
        assert secret not in page.text
    # the button asks first; "Cancel" changes nothing
    asked = sign_out_form(page, tablet['device_id']).submit(status=200)
    assert 'Sign out the device "Office tablet"?' in asked.text
    assert 'This cannot be undone.' in asked.text
    assert asked.html.find('a', string='Cancel')['href'] == 'http://localhost/account/devices'
    assert works(app, tablet)
    done = confirm(asked)
    assert done.location == 'http://localhost/account/devices'
    page = done.follow()
    assert 'The device "Office tablet" has been signed out.' in page.text
    assert 'Office tablet' not in page.html.find('table').get_text()
    assert "Ayesha's phone" in page.text
    # its tokens end (the API says 401); the other device goes on
    assert not works(app, tablet)
    assert works(app, phone)
    entry = [e for e in audit_entries(20) if e.action == 'device.revoked'][0]
    assert (entry.actor, entry.target) == ('so.finance', 'user:so.finance')
    assert dict(entry.details) == {'device': tablet['device_id'], 'device_name': 'Office tablet'}
    # signed out already: nothing there any more
    app.post(f'/account/devices/{tablet["device_id"]}/sign-out',
             {'csrf_token': app.csrf(), 'confirmed': '1'}, status=404)


def test_signing_out_the_last_device_shows_the_empty_list(app):
    phone = sign_in(app)
    app.login('so.finance')
    page = app.get('/account/devices')
    page = confirm(sign_out_form(page, phone['device_id']).submit(status=200)).follow()
    assert EMPTY in page.text and 'has been signed out' in page.text


def test_a_forged_post_without_the_csrf_token_changes_nothing(app, other, log_size):
    phone = sign_in(app)
    app.login('so.finance')
    before = log_size()
    for fields in ({'confirmed': '1'}, {'confirmed': '1', 'csrf_token': 'f' * 40}):
        res = app.post(f'/account/devices/{phone["device_id"]}/sign-out', fields, status=400)
        assert 'did not come from this site' in res.text
    assert works(app, phone)
    assert phone['device_id'] in app.get('/account/devices').text
    # (the refusals are on record, no revocation)
    assert log_size() > before
    other.login('admin')   # (the administrator's form the same)
    other.post(f'/admin/users/so.finance/devices/{phone["device_id"]}/sign-out',
               {'confirmed': '1'}, status=400)
    assert works(app, phone)


def test_another_users_device_is_not_there(app):
    hers = sign_in(app, login='secretary.finance')
    mine = sign_in(app)
    app.login('so.finance')
    csrf = app.csrf()
    for device_id in (hers['device_id'], 'not-a-device', '0' * 16):
        for fields in ({}, {'confirmed': '1'}):
            res = app.post(f'/account/devices/{device_id}/sign-out',
                           {'csrf_token': csrf, **fields}, status=404)
            assert 'We could not find that page.' in res.text
    assert works(app, hers) and works(app, mine)


def test_a_get_on_the_sign_out_address_signs_nothing_out(app, other):
    phone = sign_in(app)
    app.login('so.finance')
    app.get(f'/account/devices/{phone["device_id"]}/sign-out', status=404)
    app.get(f'/account/devices/{phone["device_id"]}/sign-out?confirmed=1', status=404)
    other.login('admin')
    other.get(f'/admin/users/so.finance/devices/{phone["device_id"]}/sign-out?confirmed=1',
              status=404)
    assert works(app, phone)


def test_an_administrator_signs_out_a_users_device_from_the_user_page(app, audit_entries):
    app.login('admin')
    page = app.get('/admin/users/so.finance')
    assert ADMIN_EMPTY in page.text
    phone, tablet = sign_in(app, device='Phone'), sign_in(app, device='Tablet')
    page = app.get('/admin/users/so.finance')
    section = page.html.find('section', attrs={'aria-labelledby': 'devices-h'})
    assert [s.get_text() for s in section.find_all('strong')] == ['Tablet', 'Phone']
    assert len(DATE.findall(section.get_text(' '))) == 4
    for secret in (phone['token'], phone['refresh_token'], tablet['token'],
                   tablet['refresh_token']):
        assert secret not in page.text
    asked = sign_out_form(page, phone['device_id']).submit(status=200)
    assert 'Sign out the device "Phone" of Ayesha Khan (so.finance)?' in asked.text
    done = confirm(asked)
    assert done.location == 'http://localhost/admin/users/so.finance'
    page = done.follow()
    assert 'The device "Phone" has been signed out.' in page.text
    section = page.html.find('section', attrs={'aria-labelledby': 'devices-h'})
    assert [s.get_text() for s in section.find_all('strong')] == ['Tablet']
    assert not works(app, phone)
    assert works(app, tablet)
    entry = [e for e in audit_entries(20) if e.action == 'device.revoked'][0]
    assert (entry.actor, entry.target) == ('admin', 'user:so.finance')
    assert dict(entry.details)['device'] == phone['device_id']
    # a device of another user, under this user's address; a user who is not there
    theirs = sign_in(app, login='secretary.finance')
    app.post(f'/admin/users/so.finance/devices/{theirs["device_id"]}/sign-out',
             {'csrf_token': app.csrf()}, status=404)
    app.post(f'/admin/users/nobody/devices/{theirs["device_id"]}/sign-out',
             {'csrf_token': app.csrf()}, status=404)
    assert works(app, theirs)


def test_an_officer_may_not_use_the_administrators_device_pages(app):
    theirs = sign_in(app, login='secretary.finance')
    app.login('so.finance')
    app.get('/admin/users/secretary.finance', status=403)
    for fields in ({}, {'confirmed': '1'}):
        app.post(f'/admin/users/secretary.finance/devices/{theirs["device_id"]}/sign-out',
                 {'csrf_token': app.csrf(), **fields}, status=403)
    assert works(app, theirs)


def test_anonymous_is_sent_to_sign_in(app):
    phone = sign_in(app)
    res = app.get('/account/devices', status=303)
    assert '/login' in res.location
    app.get('/login')
    app.post(f'/account/devices/{phone["device_id"]}/sign-out',
             {'csrf_token': app.csrf(), 'confirmed': '1'}, status=303)
    assert works(app, phone)
