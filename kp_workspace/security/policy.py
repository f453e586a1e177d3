"""The security policy: who is asking, and may they.

Browser requests are identified by the signed session cookie; requests to the
JSON API (``/api/``) only by a bearer token.  Keeping the two apart is what
makes the API safe without CSRF tokens: a forged cross-site form can carry the
cookie but never an ``Authorization`` header.

Permission checks use Pyramid's ACL helper over the user's principals:
``user:<login>``, ``role:<global role>``, ``group:<id>`` and ``post:<id>``
for every post the user holds, plus Everyone and Authenticated.
"""
import secrets
import time

from pyramid.authorization import ACLHelper, Authenticated, Everyone

from ..site import get_site

SESSION_LOGIN = 'kpw.login'
SESSION_EPOCH = 'kpw.epoch'
SESSION_ID = 'kpw.sid'
API_PREFIX = '/api/'


class Identity:
    """The signed-in user of a request and how they proved it (``session`` or ``token``)."""

    def __init__(self, user, method, token=None):
        self.user = user
        self.method = method
        self.token = token

    @property
    def login(self):
        return self.user.login

    def principals(self):
        return [Everyone, Authenticated] + self.user.principals()


def bearer_token(request):
    header = request.headers.get('Authorization', '')
    scheme, _, value = header.partition(' ')
    if scheme.lower() == 'bearer' and value.strip():
        return value.strip()
    return None


def is_api(request):
    return request.path_info.startswith(API_PREFIX)


class WorkspaceSecurityPolicy:
    def __init__(self, token_key):
        self.token_key = token_key
        self.helper = ACLHelper()

    def identity(self, request):
        # Per request object, not in the environ (see get_site: retries).
        cached = request.__dict__.get('_kpw_identity', False)
        if cached is False:
            cached = request.__dict__['_kpw_identity'] = self._find_identity(request)
        return cached

    def _find_identity(self, request):
        site = get_site(request)
        if is_api(request):
            token = bearer_token(request)
            if token is None:
                return None
            record = site.tokens.lookup(self.token_key, token)
            if record is None:
                return None
            user = site['principals'].users.get(record.login)
            if user is None or not user.active or user.epoch != record.epoch:
                return None
            return Identity(user, 'token', token)
        session = request.session
        login = session.get(SESSION_LOGIN)
        if not login:
            return None
        user = site['principals'].users.get(login)
        if (user is None or not user.active or user.epoch != session.get(SESSION_EPOCH)
                or session.get(SESSION_ID) in site.revoked_sessions):
            # An ended session is not accepted, and left as it is: emptying it would
            # send an empty session cookie, and a request that left with the old
            # session just before the user signed in again or changed their password
            # (a second tab, the page a form was submitted from), answered after
            # that, would put it over the new session and sign them out.
            session._reissue_time = None  # (nor re-sent to keep it alive)
            return None
        return Identity(user, 'session')

    def authenticated_userid(self, request):
        identity = self.identity(request)
        return identity.login if identity is not None else None

    def effective_principals(self, request):
        identity = self.identity(request)
        return identity.principals() if identity is not None else [Everyone]

    def permits(self, request, context, permission):
        return self.helper.permits(context, self.effective_principals(request), permission)

    def remember(self, request, userid, **kw):
        """Start a browser session for ``userid`` (a login): a fresh session and CSRF token."""
        user = get_site(request)['principals'].users[userid]
        session = request.session
        session.invalidate()
        session[SESSION_LOGIN] = user.login
        session[SESSION_EPOCH] = user.epoch
        session[SESSION_ID] = secrets.token_urlsafe(18)
        session.new_csrf_token()
        request.__dict__['_kpw_identity'] = Identity(user, 'session')
        return []

    def forget(self, request, **kw):
        """End the browser session; its cookie will not be accepted again."""
        session_id = request.session.get(SESSION_ID)
        if session_id:
            now = time.time()
            lifetime = request.registry.kpw_settings.session_timeout
            get_site(request).revoked_sessions.revoke(session_id, now + lifetime, now)
        request.session.invalidate()
        request.__dict__['_kpw_identity'] = None
        return []


def identity_afresh(request):
    """The identity of ``request`` read again, for a request that began a new transaction
    (a long poll): a token revoked meanwhile, or its user's password reset, is None."""
    request.__dict__.pop('_kpw_identity', None)
    return request.identity
