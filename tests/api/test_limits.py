"""Per-token rate limits (429 with Retry-After, before the database) and CORS for the
listed origins only."""
import pytest

from kp_workspace.views.api.limits import RateCounter
from tests.conftest import Browser, close_app, make_app


@pytest.fixture
def limited(var_dir):
    app = make_app(var_dir, **{'kp_workspace.api_rate_per_minute': '5',
                               'kp_workspace.cors_origins': 'https://superapp.example',
                               'kp_workspace.indexer': 'off'})
    yield Browser(app)
    close_app(app)


def test_a_token_over_its_rate_is_told_when_to_come_back(limited):
    token = limited.token('so.finance')
    other = limited.token('secretary.finance')
    auth = {'Authorization': f'Bearer {token}'}
    for _n in range(5):
        limited.get('/api/v1/me', headers=auth)
    res = limited.get('/api/v1/me', headers=auth, status=429)
    assert 1 <= int(res.headers['Retry-After']) <= 60
    assert 'Too many requests' in res.json['error']
    # another token is counted apart; a browser page is not counted
    limited.get('/api/v1/me', headers={'Authorization': f'Bearer {other}'})


def test_the_counter_starts_again_each_minute():
    now = [120.0]
    counter = RateCounter(2, clock=lambda: now[0])
    assert [counter.take('k') for _n in range(3)] == [0, 0, 60]
    now[0] = 150.5
    assert counter.take('k') == 30 and counter.take('other') == 0
    now[0] = 180.0
    assert counter.take('k') == 0


def test_cors_for_listed_origins_only(limited):
    token = limited.token('so.finance')
    pre = limited.options('/api/v1/me', headers={
        'Origin': 'https://superapp.example', 'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization'}, status=204)
    assert pre.headers['Access-Control-Allow-Origin'] == 'https://superapp.example'
    assert 'Authorization' in pre.headers['Access-Control-Allow-Headers']
    res = limited.get('/api/v1/me', headers={'Authorization': f'Bearer {token}',
                                             'Origin': 'https://superapp.example'})
    assert res.headers['Access-Control-Allow-Origin'] == 'https://superapp.example'
    assert 'ETag' in res.headers['Access-Control-Expose-Headers']
    assert 'Access-Control-Allow-Credentials' not in res.headers
    other = limited.get('/api/v1/me', headers={'Authorization': f'Bearer {token}',
                                               'Origin': 'https://evil.example'})
    assert 'Access-Control-Allow-Origin' not in other.headers


def test_off_by_default(app, tokens):
    auth = {'Authorization': f'Bearer {tokens("so.finance")}',
            'Origin': 'https://superapp.example'}
    for _n in range(30):
        res = app.get('/api/v1/me', headers=auth)
    assert 'Access-Control-Allow-Origin' not in res.headers


def test_a_path_that_is_not_utf8_is_a_400_with_limits_on(limited):
    limited.get('/%FF', status=400)
    limited.get('/api/v1/%FF', headers={'Authorization': 'Bearer kpw_x',
                                        'Origin': 'https://superapp.example'}, status=400)
