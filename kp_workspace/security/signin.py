"""Signing in, shared by the login page, the API token endpoint and tests.

One function checks throttling, the password and the account state, and
records the outcome in the audit log, so the browser and the API cannot drift
apart.
"""
import datetime

from pyramid.i18n import TranslationStringFactory

from ..audit import actor_from_request
from ..site import get_site

_ = TranslationStringFactory('kp_workspace')


class SignInRefused(Exception):
    """Sign-in failed; ``message`` is for the user, ``status`` for the response."""

    def __init__(self, message, status):
        super().__init__(message)
        self.message = message
        self.status = status


def sign_in(request, login, password, channel):
    """Return the user with ``login`` and ``password``, or raise :class:`SignInRefused`.

    ``channel`` ('browser' or 'api') is recorded in the audit log.  A failed
    attempt is counted towards the login's lock and recorded; the response must
    not be an exception, so the count and the record are committed.
    """
    settings = request.registry.kpw_settings
    site = get_site(request)
    login = (login or '').strip().lower()
    now = datetime.datetime.now(datetime.timezone.utc)
    actor = actor_from_request(request, login='')
    if not login or not password:
        raise SignInRefused(_('Enter your login and password.'), 400)
    wait = site.login_attempts.locked_for(login, now)
    if wait:
        actor.record('login.refused_locked', f'user:{login}', channel=channel)
        minutes = max(1, (wait + 59) // 60)
        raise SignInRefused(
            _('Too many failed sign-in attempts for this login. Try again in ${minutes} minutes.',
              mapping={'minutes': minutes}), 429)
    user = site['principals'].authenticate(login, password)
    if user is None:
        locked = site.login_attempts.failed(login, now, settings.login_max_failures,
                                            settings.login_window, settings.login_lockout)
        actor.record('login.failed', f'user:{login}', channel=channel,
                     **({'locked': 'yes'} if locked else {}))
        if locked:
            minutes = max(1, settings.login_lockout // 60)
            raise SignInRefused(
                _('Too many failed sign-in attempts for this login. Try again in ${minutes} minutes.',
                  mapping={'minutes': minutes}), 429)
        raise SignInRefused(_('The login or password is not right.'), 401)
    site.login_attempts.succeeded(login)
    actor_from_request(request, login=user.login).record('login.succeeded', user.principal,
                                                         channel=channel)
    return user
