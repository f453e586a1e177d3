"""The search page and ``GET /api/v1/search``."""
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.i18n import TranslationStringFactory
from pyramid.view import view_config

from ..content_types.casefile import CLASSIFICATION_TITLES
from ..content_types.movable import CLASSIFICATIONS
from ..i18n import display_title, format_when
from ..search.engine import KINDS, QueryError
from ..search.query import search
from ..security.roles import VIEW
from ..site import get_site
from ..text_rules import check_text
from .api import api_config
from .errors import error_response
from .params import day, page_number
from .work import WORKFLOWS, item_url, officer_for

_ = TranslationStringFactory('kp_workspace')
BEHIND = 3  # seconds of index lag after which the page says results may be behind
STATES = ('open', 'closed', 'draft', 'submitted', 'with_cm', 'decided', 'filed', 'diary',
          'marked', 'in_file')


def _state_title(state):
    """A state's title from the workflow it belongs to (files, then summaries)."""
    for kind in ('file', 'summary', 'receipt'):
        if state in WORKFLOWS[kind].states:
            return WORKFLOWS[kind].states[state]
    return state
KIND_TITLES = {'file': _('Case files'), 'summary': _('Summaries'),
               'attachment': _('Correspondence'), 'draft': _('Drafts'),
               'receipt': _('Receipts (dak)')}


def _params(request):
    """The search arguments of the page and the API; 400 for a value that cannot be."""
    params = request.params
    page = page_number(request)
    filters = {'kind': params.get('type', ''), 'department': params.get('department', ''),
               'state': params.get('state', ''),
               'classification': params.get('classification', '')}
    for name, param, allowed in (('kind', 'type', KINDS), ('state', 'state', STATES),
                                 ('classification', 'classification', CLASSIFICATIONS)):
        if filters[name] and filters[name] not in allowed:
            raise HTTPBadRequest(f'{param} is one of {", ".join(allowed)}.')
    dates = (day(request, 'from'), day(request, 'to'))
    if dates[0] and dates[1] and dates[0] > dates[1]:
        raise HTTPBadRequest('from is a day before to.')
    text = check_text(params.get('q', ''), 'q', 500, minimum=0, single_line=True, strip=False)
    return {'text': text, 'filters': filters, 'dates': dates, 'page': page,
            'sort': params.get('sort', 'relevance')}


def _url(request, hit):
    return item_url(request, hit.kind, hit.item)


def _run(request, args, pagelen):
    return search(request.registry.kpw_search, officer_for(request), args['text'],
                  args['filters'], args['dates'], args['page'], pagelen, args['sort'])


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
            'facets': results.facets, 'index_lag_seconds': round(results.lag, 1)}


def _total_text(translate, total):
    return translate(_('1 result you may open.') if total == 1
                     else _('${n} results you may open.', mapping={'n': total}))


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

    filters, (first, last) = args['filters'], args['dates']
    form = {'q': args['text'], 'type': filters['kind'], 'department': filters['department'],
            'state': filters['state'], 'classification': filters['classification'],
            'from': first.isoformat() if first else '', 'to': last.isoformat() if last else '',
            'sort': args['sort'], 'page': args['page']}

    def link(**change):
        query = {k: v for k, v in {**form, **change}.items()
                 if v not in ('', None, 1, 'relevance')}
        return request.route_url('search', _query=query)

    departments = get_site(request)['departments']
    lag = results.lag if results else 0
    return {
        'args': form, 'error': error,
        'behind': translate(_('The search index is catching up: what changed in the last '
                              '${seconds} seconds may not be found yet.',
                              mapping={'seconds': int(lag + 0.5)})) if lag >= BEHIND else None,
        'searched': bool(args['text'].strip() or any(filters.values()) or first or last),
        'total': results.total if results else 0,
        'total_text': _total_text(translate, results.total if results else 0),
        'hits': [{'title': h.title, 'number': h.number, 'kind': translate(KIND_TITLES[h.kind]),
                  'snippet': h.snippet, 'url': _url(request, h),
                  'department': display_title(departments[h.department], request)
                  if h.department in departments else h.department,
                  'date': format_when(request, h.date, time=False)}
                 for h in (results.hits if results else [])],
        'facets': [(translate(KIND_TITLES[k]), n, link(type=k, page=1))
                   for k, n in sorted((results.facets if results else {}).items())],
        'kinds': [(k, translate(t)) for k, t in KIND_TITLES.items()],
        'departments': [(d.__name__, display_title(d, request)) for d in departments.values()],
        'states': [(s, translate(_state_title(s))) for s in STATES],
        'classifications': [(k, translate(t)) for k, t in CLASSIFICATION_TITLES.items()],
        'next_url': link(page=args['page'] + 1) if results and args['page'] < results.pages
        else None,
        'prev_url': link(page=args['page'] - 1) if args['page'] > 1 else None,
        'page': args['page'], 'pages': results.pages if results else 0,
    }
