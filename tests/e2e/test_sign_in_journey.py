"""A person signs in, finds their post, reads it in Urdu, and signs out, in Chromium."""
from playwright.sync_api import expect

from tests.e2e.conftest import new_page, sign_in


def test_officer_signs_in_switches_to_urdu_and_signs_out(live_server, page):
    page.goto(live_server + '/')
    assert page.url.startswith(live_server + '/login')
    # keyboard only: the login field has focus (once the page has applied autofocus,
    # which a loaded machine may do a moment after the load event), labels are wired
    expect(page.locator('#login')).to_be_focused()
    page.get_by_label('Login').fill('so.finance')
    page.get_by_label('Password').fill('kp-demo-2026')
    page.keyboard.press('Enter')
    expect(page).to_have_url(live_server + '/')
    expect(page.get_by_role('heading', level=1)).to_have_text('Welcome, Ayesha Khan')
    expect(page.get_by_role('cell', name='Section Officer (Budget), Finance')).to_be_visible()
    # no administration for an officer
    assert page.get_by_role('link', name='Administration').count() == 0

    page.get_by_role('link', name='اردو').click()
    expect(page.get_by_role('heading', level=1)).to_have_text('خوش آمدید، Ayesha Khan')
    assert page.evaluate('getComputedStyle(document.body).direction') == 'rtl'
    # the brand sits on the right in right-to-left layout
    brand = page.locator('.brand').bounding_box()
    assert brand['x'] > 640

    page.get_by_role('button', name='سائن آؤٹ').click()
    expect(page).to_have_url(live_server + '/login')
    page.goto(live_server + '/')
    assert page.url.startswith(live_server + '/login')


def test_wrong_password_shows_an_error_next_to_the_form(live_server, page):
    page.goto(live_server + '/login')
    page.get_by_label('Login').fill('so.finance')
    page.get_by_label('Password').fill('not-the-password')
    page.get_by_role('button', name='Sign in').click()
    alert = page.get_by_role('alert')
    expect(alert).to_have_text('The login or password is not right.')
    assert page.get_by_label('Login').get_attribute('aria-describedby') == 'login-error'


def test_administrator_creates_a_user_who_then_signs_in(live_server, page, chromium):
    sign_in(page, live_server, 'admin')
    page.get_by_role('link', name='Administration').click()
    page.get_by_role('link', name='Users').first.click()
    page.get_by_role('link', name='New user').click()
    page.get_by_label('Login').fill('so.budget3')
    page.get_by_label('Full name').fill('Hina Tariq')
    page.locator('input[name=password]').fill('a-browser-password-1')
    page.locator('input[name=password-confirm]').fill('a-browser-password-1')
    page.get_by_role('button', name='Create user').click()
    page.wait_for_url(live_server + '/admin/users/so.budget3')
    expect(page.get_by_role('status').first).to_contain_text('User so.budget3 created.')

    other = new_page(chromium)
    # first, a password of her own: only she knows it, not the administrator
    sign_in(other, live_server, 'so.budget3', 'a-browser-password-1',
            lands_on='/account/password')
    expect(other.get_by_role('status').first).to_contain_text('choose one of your own')
    other.locator('input[name=current]').fill('a-browser-password-1')
    other.locator('input[name=password]').fill('her-own-password-22')
    other.locator('input[name=password-confirm]').fill('her-own-password-22')
    other.get_by_role('button', name='Change password').click()
    expect(other.get_by_role('status').first).to_contain_text('Your password has been changed')
    other.goto(live_server + '/')
    expect(other.get_by_role('heading', level=1)).to_contain_text('Hina Tariq')
    other.context.close()
