"""Deployment settings, read once in :func:`kp_workspace.main`.

Every setting of ours carries the ``kp_workspace.`` prefix and is documented in
``development.ini``.  :func:`read_settings` fills in what a deployment left out
(the data directory, the database URIs, the secret) and returns a typed, frozen
:class:`WorkspaceSettings` that the rest of the code reads.
"""
import os
import secrets
import tempfile
import urllib.parse
from dataclasses import dataclass

from psycopg2.extensions import parse_dsn

PREFIX = 'kp_workspace.'
SECRET_FILE = 'secret.key'


@dataclass(frozen=True)
class WorkspaceSettings:
    var_dir: str
    secret: str
    session_timeout: int = 8 * 3600
    secure_cookies: bool = False
    token_lifetime: int = 12 * 3600
    refresh_lifetime: int = 30 * 86400  # a device's refresh token, renewed on each use
    api_rate_per_minute: int = 0       # requests a minute per API token; 0: no limit
    cors_origins: tuple = ()           # web origins whose pages may call the API
    login_max_failures: int = 5
    login_window: int = 15 * 60
    login_lockout: int = 15 * 60
    login_delay_ms: int = 250          # first delay once a login has failed often...
    login_max_delay_ms: int = 4000     # ...doubling up to this
    trusted_proxies: tuple = ()        # addresses whose X-Forwarded-For names the client
    hsts_max_age: int = 0              # Strict-Transport-Security max-age; 0: not sent
    evolve_on_start: bool = True
    default_locale: str = 'en'
    upload_limit: int = 50 * 1024 * 1024
    overdue_days: tuple = (('immediate', 1), ('urgent', 3), ('routine', 7))
    retention_years: tuple = (('B', 10), ('C', 3))   # record classes kept for years
    mail: bool = False
    tsa_url: str = ''          # an RFC 3161 time-stamping service for signatures, if any
    public_url: str = 'http://127.0.0.1:6543'  # where the public reaches us (CRL, OCSP)
    indexer: str = 'thread'    # 'thread': this process runs the search indexer; 'off': it does not
    ocr: str = 'off'           # 'thread': this process reads scans (while it indexes); 'off'
    search: str = 'whoosh'     # the search engine: 'whoosh' or 'postgresql'
    search_dsn: str = ''       # the PostgreSQL search database (libpq string or URI)


    @property
    def crl_url(self):
        """The absolute address of the CA's CRL, written in every new certificate."""
        return self.public_url + '/ca.crl'

    @property
    def ocsp_url(self):
        """The absolute address of the CA's OCSP responder, in every new certificate."""
        return self.public_url + '/ocsp'


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


def _int(settings, name, default):
    raw = settings.get(PREFIX + name)
    if raw in (None, ''):
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise SettingsError(f'{PREFIX}{name} must be a whole number, not {raw!r}')
    if value <= 0:
        raise SettingsError(f'{PREFIX}{name} must be greater than zero')
    return value


def _bool(settings, name, default):
    raw = settings.get(PREFIX + name)
    if raw in (None, ''):
        return default
    text = str(raw).strip().lower()
    if text in ('1', 'true', 'yes', 'on'):
        return True
    if text in ('0', 'false', 'no', 'off'):
        return False
    raise SettingsError(f'{PREFIX}{name} must be true or false, not {raw!r}')


def file_uri(path, **params):
    """A zodburi ``file://`` URI for ``path`` with query ``params``."""
    query = urllib.parse.urlencode(params)
    uri = 'file://' + urllib.parse.quote(os.path.abspath(path))
    return f'{uri}?{query}' if query else uri


BLOB_CACHE = 'blobcache'
# Networked storages (zodburi schemes) whose clients keep a local cache of blob files.
CACHED_BLOB_SCHEMES = ('zeo', 'postgres')


def _with_query(parts, **params):
    """The URI of ``parts`` (a urlsplit result) with ``params`` added to its query."""
    extra = urllib.parse.urlencode(params)
    return urllib.parse.urlunsplit(parts._replace(query=f'{parts.query}&{extra}'.lstrip('&')))


def with_blob_cache(uri, var_dir):
    """``uri`` of the main database, completed with a local blob cache when it names a
    networked storage (ZEO, RelStorage on PostgreSQL) without a ``blob_dir``.

    Without a ``blob_dir`` those storages hold no blobs at all, and every attachment
    would fail; with one given, the deployment's choice is kept.  The cache is
    ``<var_dir>/blobcache``: the blobs themselves live in the storage (the ZEO server's
    blob directory, PostgreSQL's tables), so the cache may be emptied at any time.

    :raises SettingsError: for ``shared_blob_dir`` true without a ``blob_dir`` (a
        shared directory must be named: it holds the only copy of the blobs).
    """
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in CACHED_BLOB_SCHEMES:
        return uri
    query = urllib.parse.parse_qs(parts.query)
    if query.get('blob_dir', [''])[0]:
        return uri
    if query.get('shared_blob_dir', ['false'])[0].strip().lower() in ('1', 'true', 'yes', 'on'):
        raise SettingsError('zodbconn.uri says shared_blob_dir=true but names no blob_dir: '
                            'name the shared blob directory')
    return _with_query(parts, blob_dir=os.path.join(var_dir, BLOB_CACHE),
                       shared_blob_dir='false')


# RelStorage's default storage name holds the address of the object in memory, and the
# transaction commits its databases in the order of their names: two processes could
# then lock the main and the audit database in opposite orders, each waiting for the
# other until the commit lock times out (seen: writes of 30 to 210 s under load).
NAMED_SCHEMES = ('postgres',)


def with_storage_name(uri, name):
    """``uri``, for a RelStorage without a ``name``, named ``name`` (so that every
    process commits the main database before the audit log's, in one order)."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme not in NAMED_SCHEMES or 'name' in urllib.parse.parse_qs(parts.query):
        return uri
    return _with_query(parts, name=name)


def load_or_create_secret(var_dir):
    """Return the secret kept in ``var_dir``, creating it (mode 0600) on first use.

    The file appears whole or not at all (written aside, synced, then linked into
    place), so a process killed while creating it leaves no empty secret that
    would stop every later start; an empty one left so by an older release is
    replaced.  Of processes creating it at once, the first to link wins and the
    others read its secret.
    """
    path = os.path.join(var_dir, SECRET_FILE)
    while True:
        try:
            with open(path, encoding='ascii') as f:
                value = f.read().strip()
            if value:
                return value
            empty = True
        except FileNotFoundError:
            empty = False
        value = secrets.token_hex(32)
        fd, spare = tempfile.mkstemp(prefix='.secret-', dir=var_dir)  # (mode 0600)
        try:
            with os.fdopen(fd, 'w', encoding='ascii') as f:
                f.write(value + '\n')
                f.flush()
                os.fsync(f.fileno())
            if empty:
                if os.path.getsize(path) == 0:
                    os.replace(spare, path)
                    return value
                continue  # (someone else just wrote it: read theirs)
            try:
                os.link(spare, path)
            except FileExistsError:
                continue
            return value
        finally:
            if os.path.exists(spare):
                os.remove(spare)


def read_settings(global_config, settings):
    """Complete ``settings`` in place and return the typed :class:`WorkspaceSettings`.

    The data directory is ``$KPW_VAR_DIR`` when set, else ``kp_workspace.var_dir``,
    else ``var/`` beside the .ini file.  ``zodbconn.uri`` (main database) and
    ``zodbconn.uri.audit`` (audit log) default to FileStorages in that directory;
    a deployment that sets them (ZEO, RelStorage) keeps its own values, and a main
    database on ZEO or PostgreSQL without a ``blob_dir`` gets a blob cache in the data
    directory (:func:`with_blob_cache`).

    :raises SettingsError: when a value cannot be used.
    """
    here = (global_config or {}).get('here') or os.getcwd()
    var_dir = (os.environ.get('KPW_VAR_DIR') or settings.get(PREFIX + 'var_dir')
               or os.path.join(here, 'var'))
    var_dir = os.path.abspath(var_dir)
    os.makedirs(var_dir, exist_ok=True)
    settings[PREFIX + 'var_dir'] = var_dir
    if not settings.get('zodbconn.uri'):
        os.makedirs(os.path.join(var_dir, 'blobs'), exist_ok=True)
        settings['zodbconn.uri'] = file_uri(
            os.path.join(var_dir, 'Data.fs'),
            blobstorage_dir=os.path.join(var_dir, 'blobs'),
            connection_cache_size=20000)
    else:
        settings['zodbconn.uri'] = with_storage_name(
            with_blob_cache(settings['zodbconn.uri'], var_dir), 'kpw 1 main')
    if not settings.get('zodbconn.uri.audit'):
        settings['zodbconn.uri.audit'] = file_uri(os.path.join(var_dir, 'Audit.fs'))
    else:
        settings['zodbconn.uri.audit'] = with_storage_name(settings['zodbconn.uri.audit'],
                                                           'kpw 2 audit')
    secret = settings.get(PREFIX + 'secret') or load_or_create_secret(var_dir)
    if len(secret) < 32:
        raise SettingsError(f'{PREFIX}secret must be at least 32 characters long')
    locale = settings.get(PREFIX + 'default_locale') or 'en'
    if locale not in ('en', 'ur'):
        raise SettingsError(f'{PREFIX}default_locale must be en or ur')
    settings['pyramid.default_locale_name'] = locale
    indexer = (settings.get(PREFIX + 'indexer') or 'thread').strip()
    if indexer not in ('thread', 'off'):
        raise SettingsError(f'{PREFIX}indexer must be thread or off')
    ocr = (settings.get(PREFIX + 'ocr') or 'off').strip()
    if ocr not in ('thread', 'off'):
        raise SettingsError(f'{PREFIX}ocr must be thread or off')
    search, search_dsn = _search(settings)
    return WorkspaceSettings(
        var_dir=var_dir,
        secret=secret,
        session_timeout=_int(settings, 'session_timeout', 8 * 3600),
        secure_cookies=_bool(settings, 'secure_cookies', False),
        token_lifetime=_int(settings, 'token_lifetime', 12 * 3600),
        refresh_lifetime=_int(settings, 'refresh_lifetime', 30 * 86400),
        api_rate_per_minute=(0 if str(settings.get(PREFIX + 'api_rate_per_minute') or '0')
                             .strip() == '0' else _int(settings, 'api_rate_per_minute', 0)),
        cors_origins=tuple((settings.get(PREFIX + 'cors_origins') or '').split()),
        login_max_failures=_int(settings, 'login_max_failures', 5),
        login_window=_int(settings, 'login_window', 15 * 60),
        login_lockout=_int(settings, 'login_lockout', 15 * 60),
        login_delay_ms=_int(settings, 'login_delay_ms', 250),
        login_max_delay_ms=_int(settings, 'login_max_delay_ms', 4000),
        trusted_proxies=tuple((settings.get(PREFIX + 'trusted_proxies') or '').split()),
        # (0, the default, sends no Strict-Transport-Security: plain http in development)
        hsts_max_age=(0 if str(settings.get(PREFIX + 'hsts_max_age') or '0').strip() == '0'
                      else _int(settings, 'hsts_max_age', 0)),
        evolve_on_start=_bool(settings, 'evolve_on_start', True),
        default_locale=locale,
        upload_limit=_int(settings, 'upload_limit_mb', 50) * 1024 * 1024,
        overdue_days=tuple((p, _int(settings, f'overdue_days.{p}', d))
                           for p, d in (('immediate', 1), ('urgent', 3), ('routine', 7))),
        retention_years=tuple((c, _int(settings, f'retention_years.{c}', d))
                              for c, d in (('B', 10), ('C', 3))),
        mail=bool(settings.get('mail.host')),
        tsa_url=(settings.get(PREFIX + 'tsa_url') or '').strip(),
        public_url=_public_url(settings),
        indexer=indexer,
        ocr=ocr,
        search=search,
        search_dsn=search_dsn,
    )


def _public_url(settings):
    """``kp_workspace.public_url`` without a trailing slash.

    :raises SettingsError: it is not an absolute http(s) address of a host.
    """
    raw = (settings.get(PREFIX + 'public_url') or 'http://127.0.0.1:6543').strip()
    parts = urllib.parse.urlsplit(raw)
    if parts.scheme not in ('http', 'https') or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(f'{PREFIX}public_url must be an absolute http:// or https:// '
                            f'address, not {raw!r}')
    return raw.rstrip('/')


def _search(settings):
    """``(engine, dsn)`` from ``kp_workspace.search`` and ``kp_workspace.search_dsn``.

    :raises SettingsError: an unknown engine; PostgreSQL without a database, or
        with one that is neither a libpq connection string nor a URI.  (The
        message never repeats the value: it may hold a password.)
    """
    engine = (settings.get(PREFIX + 'search') or 'whoosh').strip()
    if engine not in ('whoosh', 'postgresql'):
        raise SettingsError(f'{PREFIX}search must be whoosh or postgresql')
    dsn = (settings.get(PREFIX + 'search_dsn') or '').strip()
    if engine == 'postgresql':
        if not dsn:
            raise SettingsError(f'{PREFIX}search_dsn must name the PostgreSQL database '
                                f'when {PREFIX}search is postgresql')
        try:
            parse_dsn(dsn)
        except Exception:  # (psycopg2's ProgrammingError, whose message quotes the value)
            raise SettingsError(f'{PREFIX}search_dsn must be a libpq connection string '
                                '(host=... dbname=...) or a postgresql:// URI') from None
    return engine, dsn
