"""Security: principals, roles, the security policy, sessions and CSRF."""


def signed_in_reissue_only(factory):
    """Sessions without a sign-in are never re-sent just for being read.

    A session read after ``reissue_time`` is sent back as a cookie, to keep it
    alive.  A page a browser asked for before signing in (another tab, the
    favicon) and answered after it would then send back the signed-out session
    over the new one and sign the user out.
    """
    from .policy import SESSION_LOGIN

    def make(request):
        session = factory(request)
        if not dict.__contains__(session, SESSION_LOGIN):
            session._reissue_time = None  # (the class's setting, for this session)
        return session
    return make


def includeme(config):
    from pyramid.session import SignedCookieSessionFactory

    from .policy import WorkspaceSecurityPolicy
    from .roles import _check_table
    from .tokens import token_key

    settings = config.registry.kpw_settings
    _check_table()
    config.set_session_factory(signed_in_reissue_only(SignedCookieSessionFactory(
        settings.secret,
        cookie_name='kpw_session',
        salt='kp_workspace.session',
        httponly=True,
        samesite='Lax',
        secure=settings.secure_cookies,
        timeout=settings.session_timeout,
        reissue_time=min(600, settings.session_timeout // 10),
        hashalg='sha512',
    )))
    config.registry.kpw_token_key = token_key(settings.secret)
    config.set_security_policy(WorkspaceSecurityPolicy(config.registry.kpw_token_key))
    # Every unsafe browser request carries the session's CSRF token; API views
    # opt out because they authenticate by bearer token only (see policy.py).
    config.set_default_csrf_options(require_csrf=True)
    # Every request's input is checked before the router and the views see it.
    config.include('.inputs')
    config.include('.headers')  # CSP, nosniff, no framing, HSTS on every response
