"""Devices and refresh tokens: an app signs in as a named device, refreshes its tokens
(the refresh token rotating), and a spent refresh token sent again revokes the device;
owners and administrators list and revoke devices."""
from kp_workspace.populate import DEMO_PASSWORD


def sign_in(app, login='so.finance', device="Ayesha's phone", status=201):
    body = {'login': login, 'password': DEMO_PASSWORD}
    if device is not None:
        body['device'] = device
    return app.post_json('/api/v1/auth/token', body, status=status)


def refresh(app, token, status=201):
    return app.post_json('/api/v1/auth/refresh', {'refresh_token': token}, status=status)


def me(app, token, status=200):
    return app.get('/api/v1/me', headers={'Authorization': f'Bearer {token}'}, status=status)


def test_refresh_rotates_and_a_spent_one_revokes_the_device(app, audit_entries):
    first = sign_in(app).json
    assert first['refresh_token'].startswith('kpwr_') and first['device_id']
    devices = app.get('/api/v1/auth/devices',
                      headers={'Authorization': f'Bearer {first["token"]}'}).json['items']
    assert [(d['name'], d['current']) for d in devices] == [("Ayesha's phone", True)]
    second = refresh(app, first['refresh_token']).json
    assert second['refresh_token'] != first['refresh_token']
    assert second['token'] != first['token'] and second['device_id'] == first['device_id']
    me(app, second['token'])
    third = refresh(app, second['refresh_token']).json
    # the spent one again: refused, and the device is signed out, every token of it
    res = refresh(app, first['refresh_token'], status=401)
    assert 'sign in again' in res.json['error']
    for token in (first['token'], second['token'], third['token']):
        me(app, token, status=401)
    refresh(app, third['refresh_token'], status=401)
    assert 'device.revoked' in [e.action for e in audit_entries(10)]
    # unknown and malformed ones: 401 and 400, nothing else
    refresh(app, 'kpwr_nothing', status=401)
    refresh(app, 12, status=401)
    app.post('/api/v1/auth/refresh', 'not json', status=400)


def test_a_token_without_a_device_has_no_refresh(app):
    res = sign_in(app, device=None).json
    assert set(res) == {'token', 'expires_at'}
    res = sign_in(app, device='\u0000bad', status=400)
    assert 'device' in res.json['error']


def test_owners_and_administrators_revoke_devices(app):
    phone = sign_in(app, device='Phone').json
    tablet = sign_in(app, device='Tablet').json
    other = sign_in(app, login='secretary.finance', device='Office phone').json
    auth = {'Authorization': f'Bearer {phone["token"]}'}
    listed = app.get('/api/v1/auth/devices', headers=auth).json['items']
    assert [d['name'] for d in listed] == ['Tablet', 'Phone']
    # someone else's device is not theirs to revoke
    app.delete(f'/api/v1/auth/devices/{other["device_id"]}', headers=auth, status=404)
    app.delete(f'/api/v1/auth/devices/{tablet["device_id"]}', headers=auth, status=204)
    me(app, tablet['token'], status=401)
    refresh(app, tablet['refresh_token'], status=401)
    assert [d['name'] for d in app.get('/api/v1/auth/devices', headers=auth).json['items']] \
        == ['Phone']
    # an administrator lists and signs out any user's devices; others may not
    admin = {'Authorization': f'Bearer {sign_in(app, login="admin", device=None).json["token"]}'}
    listed = app.get('/api/v1/users/secretary.finance/devices', headers=admin).json['items']
    assert [d['name'] for d in listed] == ['Office phone']
    app.get('/api/v1/users/secretary.finance/devices', headers=auth, status=403)
    app.delete(f'/api/v1/users/secretary.finance/devices/{other["device_id"]}',
               headers=auth, status=403)
    app.get('/api/v1/users/nobody/devices', headers=admin, status=404)
    app.delete(f'/api/v1/users/secretary.finance/devices/{other["device_id"]}',
               headers=admin, status=204)
    me(app, other['token'], status=401)
    me(app, phone['token'])


def test_signing_out_on_a_device_ends_its_refresh(app):
    phone = sign_in(app).json
    app.delete('/api/v1/auth/token', headers={'Authorization': f'Bearer {phone["token"]}'},
               status=204)
    me(app, phone['token'], status=401)
    refresh(app, phone['refresh_token'], status=401)
