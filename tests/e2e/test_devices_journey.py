"""An officer who lost a phone signs it out from "My devices", in Chromium: asked first,
then the phone's tokens no longer work; in Urdu on a phone the same, right to left."""
import requests
from playwright.sync_api import expect

from kp_workspace.populate import DEMO_PASSWORD
from tests.e2e.conftest import PHONE, new_page, sign_in


def signed_in_device(base, name, login='so.finance'):
    """What the Super-App gets when it signs in as the device ``name``."""
    res = requests.post(base + '/api/v1/auth/token', timeout=60, json={
        'login': login, 'password': DEMO_PASSWORD, 'device': name})
    res.raise_for_status()
    return res.json()


def me(base, signed_in):
    return requests.get(base + '/api/v1/me', timeout=60,
                        headers={'Authorization': f'Bearer {signed_in["token"]}'}).status_code


def test_an_officer_signs_out_a_lost_phone(live_server, page, shot):
    phone = signed_in_device(live_server, "Ayesha's phone")
    tablet = signed_in_device(live_server, 'Office tablet')
    sign_in(page, live_server, 'so.finance')
    page.get_by_role('link', name='My devices').click()
    expect(page).to_have_url(live_server + '/account/devices')
    rows = page.locator('table.devices tbody tr')
    expect(rows).to_have_count(2)
    shot(page, 'two devices')
    rows.filter(has_text="Ayesha's phone").get_by_role(
        'button', name='Sign out this device').click()
    expect(page.get_by_role('heading', level=1)).to_have_text('Please confirm')
    expect(page.locator('#confirm-q')).to_contain_text('Sign out the device "Ayesha\'s phone"?')
    shot(page, 'asked')
    page.get_by_role('button', name='Yes, sign it out').click()
    expect(page).to_have_url(live_server + '/account/devices')
    expect(page.get_by_role('status')).to_have_text(
        'The device "Ayesha\'s phone" has been signed out.')
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text('Office tablet')
    shot(page, 'one left')
    assert me(live_server, phone) == 401
    assert me(live_server, tablet) == 200


def test_in_urdu_on_a_phone(live_server, chromium, shot):
    signed_in_device(live_server, 'دفتر کا ٹیبلٹ')
    page = new_page(chromium, viewport=PHONE, is_mobile=True, has_touch=True,
                    device_scale_factor=2)
    try:
        page.goto(live_server + '/language/ur?next=/login')
        sign_in(page, live_server, 'so.finance')
        page.goto(live_server + '/account/devices')
        expect(page.get_by_role('heading', level=1)).to_have_text('میری ڈیوائسز')
        assert page.evaluate('getComputedStyle(document.body).direction') == 'rtl'
        page.get_by_role('button', name='یہ ڈیوائس سائن آؤٹ کریں').click()
        expect(page.locator('#confirm-q')).to_contain_text('دفتر کا ٹیبلٹ')
        shot(page, 'ur-390-asked')
        page.get_by_role('button', name='جی ہاں، سائن آؤٹ کریں').click()
        expect(page.locator('main .empty')).to_contain_text('آپ کے نام سے کوئی فون یا ایپ')
        assert page.evaluate('document.documentElement.scrollWidth') <= PHONE['width']
        shot(page, 'ur-390-none left')
    finally:
        page.context.close()
