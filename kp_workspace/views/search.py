"""The search page and ``GET /api/v1/search``."""
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ..search.engine import KINDS, QueryError
from ..search.query import search
from ..security.roles import VIEW
from ..site import get_site
from .api import api_config
from .errors import error_response
from .work import officer_for

_ = TranslationStringFactory('kp_workspace')
STATES = ('open', 'closed', 'draft', 'submitted', 'with_cm', 'decided')
KIND_TITLES = {'file': _('Case files'), 'summary': _('Summaries'),
               'attachment': _('Correspondence'), 'draft': _('Drafts')}


def _params(request):
    params = request.params
    try:
        page = max(1, int(params.get('page', 1)))
    except ValueError:
        raise HTTPBadRequest('page is a whole number.')
    kind = params.get('type', '')
    state = params.get('state', '')
    if kind and kind not in KINDS:
        raise HTTPBadRequest(f'type is one of {", ".join(KINDS)}.')
    if state and state not in STATES:
        raise HTTPBadRequest(f'state is one of {", ".join(STATES)}.')
    return {'text': params.get('q', ''), 'kind': kind, 'department': params.get('department', ''),
            'state': state, 'page': page, 'sort': params.get('sort', 'relevance')}


def _url(request, hit):
    route = 'summary' if hit.kind == 'summary' else 'file'
    return request.route_url(route, id=hit.item)


def _run(request, args, pagelen):
    return search(request.registry.kpw_search, officer_for(request), args['text'],
                  args['kind'], args['department'], args['state'], args['page'], pagelen,
                  args['sort'])


@view_config(**api_config(route_name='api_search', request_method='GET', permission=VIEW))
def api_search(request):
    args = _params(request)
    try:
        results = _run(request, args, 20)
    except QueryError:
        return error_response(request, 400, _('The search could not be understood. Check the '
                                              'quotes and brackets, or search plain words.'))
    return {'items': [{'id': h.item, 'kind': h.kind, 'title': h.title, 'number': h.number,
                       'snippet': h.snippet, 'url': _url(request, h)} for h in results.hits],
            'total': results.total, 'page': results.page, 'pages': results.pages,
            'facets': results.facets}


@view_config(route_name='search', permission=VIEW, renderer='kp_workspace:templates/search.pt')
def search_page(request):
    args = _params(request)
    translate = request.localizer.translate
    error = None
    try:
        results = _run(request, args, 10)
    except QueryError:
        request.response.status = 400
        error = translate(_('The search could not be understood. Check the quotes and brackets, '
                            'or search plain words.'))
        results = None

    def link(**change):
        query = {k: v for k, v in {'q': args['text'], 'type': args['kind'],
                                   'department': args['department'], 'state': args['state'],
                                   'sort': args['sort'], 'page': args['page'], **change}.items()
                 if v not in ('', None, 1, 'relevance')}
        return request.route_url('search', _query=query)

    departments = get_site(request)['departments']
    return {
        'args': args, 'error': error, 'searched': bool(args['text'].strip()),
        'total': results.total if results else 0,
        'hits': [{'title': h.title, 'number': h.number, 'kind': translate(KIND_TITLES[h.kind]),
                  'snippet': h.snippet, 'url': _url(request, h),
                  'department': departments[h.department].title
                  if h.department in departments else h.department,
                  'date': h.date.strftime('%d %b %Y') if h.date else ''}
                 for h in (results.hits if results else [])],
        'facets': [(translate(KIND_TITLES[k]), n, link(type=k, page=1))
                   for k, n in sorted((results.facets if results else {}).items())],
        'kinds': [(k, translate(t)) for k, t in KIND_TITLES.items()],
        'departments': [(d.__name__, d.title) for d in departments.values()],
        'states': STATES,
        'next_url': link(page=args['page'] + 1) if results and args['page'] < results.pages
        else None,
        'prev_url': link(page=args['page'] - 1) if args['page'] > 1 else None,
        'page': args['page'], 'pages': results.pages if results else 0,
    }
