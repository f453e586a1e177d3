"""The OpenAPI document against the routes: every API route and method the app serves is
described, nothing described is missing from the app, and every operation has a stable
name (operationId) and a tag, so a generated client names its functions sensibly."""
from kp_workspace.views.api.openapi import OPERATIONS, openapi_document

DOCUMENTED_OUTSIDE_API = {'GET /healthz'}


def served(wsgi_app):
    """``{'METHOD /pattern'}`` of the JSON API's views (and the health check)."""
    introspector = wsgi_app.registry.introspector
    patterns = {r['name']: r['pattern'] for r in
                (i for i in introspector.get_category('routes'))
                for r in (r['introspectable'],)}
    found = set()
    for entry in introspector.get_category('views'):
        view = entry['introspectable']
        route = view['route_name']
        pattern = patterns.get(route, '')
        if not (pattern.startswith('/api/') or f'GET {pattern}' in DOCUMENTED_OUTSIDE_API):
            continue
        methods = view['request_methods'] or ('GET',)
        for method in (methods,) if isinstance(methods, str) else methods:
            if method not in ('HEAD', 'OPTIONS'):
                found.add(f'{method} {pattern}')
    return found


def documented():
    paths = openapi_document('http://localhost')['paths']
    return {f'{m.upper()} {p}': op for p, ops in paths.items() for m, op in ops.items()}


def test_every_route_is_described_and_nothing_else(wsgi_app):
    assert served(wsgi_app) == set(documented())


def test_every_operation_has_a_stable_name_and_a_tag():
    ops = documented()
    assert set(ops) == set(OPERATIONS)
    ids = [op['operationId'] for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert all(i[0].islower() and i.isalnum() for i in ids), ids
    assert all(len(op['tags']) == 1 for op in ops.values())
