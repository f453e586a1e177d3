"""Sign in, sign out, change one's own password, choose a language."""
import colander
import deform
from pyramid.events import ContextFound, subscriber
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationStringFactory
from pyramid.security import forget, remember
from pyramid.view import view_config, view_defaults

from ..audit import actor_from_request
from ..errors import DomainError
from ..i18n import CODES, COOKIE
from ..security.policy import is_api
from ..security.roles import ACCOUNT
from ..security.signin import SignInRefused, sign_in
from ..site import get_site
from .forms import CSRFSchema, run_form
from .layout import flash

_ = TranslationStringFactory('kp_workspace')


def safe_came_from(request, value):
    """``value`` if it is a path on this site, else the home page (no open redirects)."""
    if value and value.startswith('/') and not value.startswith('//') and '\\' not in value:
        return request.application_url + value
    return request.route_url('home')


@view_defaults(route_name='login', renderer='kp_workspace:templates/login.pt')
class LoginView:
    def __init__(self, request):
        self.request = request

    @view_config(request_method='GET')
    def show(self):
        request = self.request
        if request.identity is not None:
            return HTTPSeeOther(safe_came_from(request, request.params.get('came_from')))
        return {'error': None, 'login': '', 'came_from': request.params.get('came_from', '')}

    @view_config(request_method='POST')
    def submit(self):
        request = self.request
        login = request.POST.get('login', '')
        came_from = request.POST.get('came_from', '')
        try:
            user = sign_in(request, login, request.POST.get('password', ''), 'browser')
        except SignInRefused as refused:
            request.response.status = refused.status
            if refused.retry_after:
                request.response.headers['Retry-After'] = str(refused.retry_after)
            return {'error': refused.message, 'login': login, 'came_from': came_from}
        headers = remember(request, user.login)
        return HTTPSeeOther(safe_came_from(request, came_from), headers=headers)


@view_defaults(route_name='logout')
class LogoutView:
    def __init__(self, request):
        self.request = request

    @view_config(request_method='GET', renderer='kp_workspace:templates/logout.pt')
    def confirm(self):
        if self.request.identity is None:
            return HTTPSeeOther(self.request.route_url('login'))
        return {}

    @view_config(request_method='POST')
    def submit(self):
        request = self.request
        identity = request.identity
        if identity is not None:
            actor_from_request(request).record('logout', identity.user.principal)
        headers = forget(request)
        flash(request, _('You have signed out.'))
        return HTTPSeeOther(request.route_url('login'), headers=headers)


class PasswordChangeSchema(CSRFSchema):
    current = colander.SchemaNode(colander.String(), title=_('Current password'),
                                  widget=deform.widget.PasswordWidget(
                                      attributes={'autocomplete': 'current-password'}))
    password = colander.SchemaNode(
        colander.String(), title=_('New password'),
        description=_('At least 10 characters.'),
        widget=deform.widget.CheckedPasswordWidget(attributes={'autocomplete': 'new-password'}))


@view_config(route_name='account_password', permission=ACCOUNT,
             renderer='kp_workspace:templates/form.pt')
def change_password(request):
    user = request.identity.user

    def save(data):
        get_site(request)['principals'].change_own_password(
            actor_from_request(request), user, data['current'], data['password'])
        remember(request, user.login)  # keep this session; others have ended
        return _('Your password has been changed. Other sessions have been signed out.')

    result = run_form(request, PasswordChangeSchema(), save, buttons=(_('Change password'),))
    if isinstance(result, dict):
        result.update(title=request.localizer.translate(_('Change your password')))
    return result


@view_config(route_name='set_language', request_method='GET')
def set_language(request):
    code = request.matchdict['code']
    response = HTTPSeeOther(safe_came_from(request, request.params.get('next')))
    if code in CODES:
        response.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite='Lax', httponly=True)
    return response


# What a user whose password an administrator set may reach before choosing their own.
BEFORE_OWN_PASSWORD = frozenset({'account_password', 'logout', 'login', 'set_language',
                                 'api_token', 'healthz', 'favicon'})
MUST_CHANGE = _('An administrator set your password: choose one of your own before you go on.')
MUST_CHANGE_API = _('An administrator set your password: sign in in the browser and choose one '
                    'of your own first.')


@subscriber(ContextFound)
def own_password_first(event):
    """Send a user whose password an administrator chose to "Change your password"
    before anything else (the API refuses them until then): only the user then
    knows their password, not the administrator who set it."""
    request = event.request
    route = request.matched_route
    if route is None or route.name in BEFORE_OWN_PASSWORD or route.name.startswith('__'):
        return  # ('__static/': the stylesheet of the password page itself)
    identity = request.identity
    if identity is None or not identity.user.must_change_password:
        return
    if is_api(request):
        raise DomainError(MUST_CHANGE_API, status=403)
    flash(request, MUST_CHANGE)
    raise HTTPSeeOther(request.route_url('account_password'))
