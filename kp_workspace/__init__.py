"""KP Digital Workspace: the WSGI application factory."""
from pyramid.config import Configurator

from .settings import read_settings
from .site import close_databases, prepare_database, root_factory
from .wsgi import UploadLimit


def main(global_config, **settings):
    """Build the WSGI application from .ini ``settings``.

    Opens the databases named by ``zodbconn.uri`` (main) and ``zodbconn.uri.audit``,
    creates the site on first start and runs pending evolve steps (unless
    ``kp_workspace.evolve_on_start`` is false), then starts the search indexer's
    thread (unless ``kp_workspace.indexer`` is off): it first catches up with
    whatever the queue holds.
    """
    kpw_settings = read_settings(global_config, settings)
    settings.setdefault('retry.attempts', '5')
    settings.setdefault('tm.manager_hook', 'pyramid_tm.explicit_manager')
    with Configurator(settings=settings, root_factory=root_factory) as config:
        config.registry.kpw_settings = kpw_settings
        # Order matters: retries wrap the transaction, which wraps the views;
        # the databases must be open before the site is prepared.
        config.include('pyramid_retry')        # ZODB conflicts are retried
        config.include('pyramid_tm')           # one transaction per request
        config.include('.audit.refusals')      # refusals recorded after it, in their own
        config.include('.databases')           # main + audit databases (pyramid_zodbconn)
        config.include('pyramid_chameleon')    # .pt templates
        config.include('.wsgi')                # 413 for a body UploadLimit refused
        config.include('.i18n')                # locales, translation dirs
        if kpw_settings.mail:
            config.include('pyramid_mailer')   # alerts by e-mail (mail.* settings)
        config.include('.security')            # sessions, CSRF, security policy
        config.include('.content_types')       # Department, CaseFile, Summary, ...
        config.include('.search')              # Whoosh index, its queue and indexer
        config.include('.ocr')                 # scans read in the background
        config.include('.views')               # browser pages, JSON API, static files
        config.include('.views.api.etags')     # ETags and 304s on the API's reads
        config.include('.views.api.limits')    # per-token rate limits, CORS
        config.include('.dispatch')            # the dispatch registers' pages and API
        config.include('.recordroom')          # the record room's pages and API
        config.include('.cabinet')             # cabinet meetings, papers, minutes, decisions
        config.include('.implementation')      # cabinet decisions' implementation
        config.include('.transparency')        # public figures, feeds (no sign-in)
    try:
        config.registry.kpw_generations = prepare_database(
            config.registry, evolve=kpw_settings.evolve_on_start)
    except BaseException:  # (a database it refuses is left unlocked, for the right release)
        close_databases(config.registry)
        raise
    if kpw_settings.indexer == 'thread':
        config.registry.kpw_indexer.start()
    if kpw_settings.ocr == 'thread':
        config.registry.kpw_ocr.start()
    return UploadLimit(config.make_wsgi_app(), kpw_settings.upload_limit)
