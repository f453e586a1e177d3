"""Signing in, shared by the login page, the API token endpoint and tests.

One function checks throttling, the password and the account state, and
records the outcome in the audit log, so the browser and the API cannot drift
apart.
"""
import datetime
import time

from pyramid.i18n import TranslationStringFactory

from ..audit import actor_from_request
from ..site import get_site
from .client import client_address

_ = TranslationStringFactory('kp_workspace')


class SignInRefused(Exception):
    """Sign-in failed; ``message`` is for the user, ``status`` for the response.

    ``retry_after`` (seconds) is set when the refusal is a throttle (429).
    """

    def __init__(self, message, status, retry_after=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def _refused(wait):
    minutes = max(1, (wait + 59) // 60)
    return SignInRefused(
        _('Too many failed sign-in attempts for this login from your address. '
          'Try again in ${minutes} minutes.', mapping={'minutes': minutes}), 429,
        retry_after=wait)


LONGEST_LOGIN = 40  # (principals.LOGIN_RE)


def sign_in(request, login, password, channel):
    """Return the user with ``login`` and ``password``, or raise :class:`SignInRefused`.

    ``channel`` ('browser' or 'api') is recorded in the audit log.  An address
    that failed too often for this login is refused (429, ``retry_after``);
    a login that failed often from anywhere makes every attempt on it wait a
    bounded delay first (see :mod:`.throttle`).  A failed attempt is counted
    and recorded; the response must not be an exception, so the count and the
    record are committed.
    """
    settings = request.registry.kpw_settings
    site = get_site(request)
    throttle = site.login_attempts
    login = (login or '').strip().lower()
    if len(login) > LONGEST_LOGIN:
        # no login is this long (principals.LOGIN_RE): count and record only its start,
        # so that a stranger cannot fill the audit log or the throttle with megabytes
        login = ' '.join(login[:LONGEST_LOGIN].split()) + '…'
    address = client_address(request)
    now = datetime.datetime.now(datetime.timezone.utc)
    actor = actor_from_request(request, login='')
    if not login or not password:
        raise SignInRefused(_('Enter your login and password.'), 400)
    wait = throttle.refused_for(login, address, now)
    if wait:
        actor.record('login.refused_locked', f'user:{login}', channel=channel)
        raise _refused(wait)
    delay = throttle.delay_for(login, now, settings)
    if delay:
        time.sleep(delay)  # (bounded by kp_workspace.login_max_delay_ms)
    user = site['principals'].authenticate(login, password)
    if user is None:
        refused = throttle.failed(login, address, now, settings)
        actor.record('login.failed', f'user:{login}', channel=channel,
                     **({'locked': 'yes'} if refused else {}),
                     **({'delay_ms': str(int(delay * 1000))} if delay else {}))
        if refused:
            raise _refused(settings.login_lockout)
        raise SignInRefused(_('The login or password is not right.'), 401)
    throttle.succeeded(login, address)
    actor_from_request(request, login=user.login).record('login.succeeded', user.principal,
                                                         channel=channel)
    return user
