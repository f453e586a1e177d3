"""Urdu: translated interface, right-to-left layout."""


def test_language_switch_sets_urdu_and_right_to_left(app):
    res = app.get('/language/ur', params={'next': '/login'}, status=303)
    assert res.location == 'http://localhost/login'
    page = res.follow()
    assert '<html lang="ur" dir="rtl">' in page.text
    assert 'سائن اِن' in page.text and 'حکومتِ خیبر پختونخوا' in page.text


def test_translated_messages_with_values(app):
    app.get('/language/ur', status=303)
    app.login('so.finance')
    home = app.get('/')
    assert 'خوش آمدید، Ayesha Khan' in home.text
    assert 'سرورق' in home.text  # navigation, built in Python
    assert 'افسر' in home.text    # role title, built in Python


def test_error_messages_are_translated(app):
    app.get('/language/ur', status=303)
    res = app.login('so.finance', 'wrong-password-1', status=401)
    assert 'لاگ اِن یا پاس ورڈ درست نہیں۔' in res.text


def test_accept_language_is_honoured_and_unknown_codes_ignored(app):
    page = app.get('/login', headers={'Accept-Language': 'ur-PK, en;q=0.5'})
    assert 'dir="rtl"' in page.text
    app.get('/language/fr', status=303)
    assert 'dir="ltr"' in app.get('/login').text


def test_urdu_api_errors(app):
    res = app.get('/api/v1/me', headers={'Accept-Language': 'ur'}, status=401)
    assert 'error' in res.json
