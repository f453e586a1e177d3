"""``kpw``: the workspace's console commands.

    kpw [-c CONFIG] init [--demo | --demo-if-empty]
    kpw [-c CONFIG] demo
    kpw [-c CONFIG] evolve [--check]
    kpw [-c CONFIG] user add LOGIN --name NAME [--email E] [--role R ...]
    kpw [-c CONFIG] user passwd LOGIN
    kpw [-c CONFIG] post assign POST_ID LOGIN [--transfer]
    kpw [-c CONFIG] reindex [--check] [--batch N] [--processes N]
    kpw [-c CONFIG] backup DEST [--full]
    kpw [-c CONFIG] restore SRC [--at TIME | --list]
    kpw [-c CONFIG] indexer [--once]
    kpw [-c CONFIG] verify FILE.pdf
    kpw [-c CONFIG] audit verify
    kpw [-c CONFIG] ca import CA.pem
    kpw [-c CONFIG] cert import LOGIN SIGNER.p12

Passwords and PINs are read from standard input (one a line) or asked for at a
terminal; they never appear on the command line.  Every change is recorded in the audit
log as done by ``console``.

Commands run the application without its indexer thread; what they change is
indexed before they end (unless another process holds the indexer's lock: it
will then index it).
"""
import argparse
import getpass
import os
import signal
import sys
import textwrap
import urllib.parse

from pyramid.paster import get_appsettings, setup_logging
from pyramid.scripting import prepare
from pyramid_zodbconn import get_connection
from ZODB import DB
from zc.lockfile import LockError

from ..audit import ANCHORS_KEY, ROOT_KEY as AUDIT_KEY, Actor, ensure_audit_log
from ..audit.verify import verify as verify_audit
from .. import backup as backups
from ..databases import resolve_uri
from . import serve as serving
from .. import main as make_app
from ..errors import DomainError
from ..evolve import GENERATION, EvolveError, pending
from ..populate import load_demo
from ..search import reindex as search_reindex
from ..security.roles import ALL_ROLE_NAMES
from ..settings import read_settings
from ..signing import NotAPdf, verify
from ..site import ROOT_KEY, close_databases, prepare_database

DEFAULT_CONFIG = 'development.ini'


def _parser():
    parser = argparse.ArgumentParser(prog='kpw', description='KP Digital Workspace console.')
    parser.add_argument('-c', '--config', default=os.environ.get('KPW_CONFIG', DEFAULT_CONFIG),
                        help='the .ini file (default: $KPW_CONFIG or development.ini)')
    sub = parser.add_subparsers(dest='command', required=True)

    init = sub.add_parser('init', help='create the database (and optionally demo data)')
    group = init.add_mutually_exclusive_group()
    group.add_argument('--demo', action='store_true', help='load demo data')
    group.add_argument('--demo-if-empty', action='store_true',
                       help='load demo data when the workspace has no users yet')

    sub.add_parser('demo', help='load demo data (adds only what is missing)')

    serve = sub.add_parser('serve', help='serve with several processes: through a ZEO server '
                                         'on the data directory\'s FileStorages, or on the '
                                         'PostgreSQL or ZEO database the configuration names '
                                         '(Ctrl-C stops them)')
    serve.add_argument('--workers', type=int, default=2, help='app processes (default 2)')
    serve.add_argument('--threads', type=int, default=4, help='threads each (default 4)')
    serve.add_argument('--port', type=int, default=6543, help='HTTP port on 127.0.0.1')
    serve.add_argument('--zeo-port', type=int, default=8100,
                       help='ZEO port on 127.0.0.1 (FileStorages only)')

    evolve = sub.add_parser('evolve', help='run pending database upgrade steps')
    evolve.add_argument('--check', action='store_true', help='only list pending steps')

    user = sub.add_parser('user', help='manage users').add_subparsers(dest='action', required=True)
    add = user.add_parser('add', help='create a user; the password is read from stdin')
    add.add_argument('login')
    add.add_argument('--name', required=True)
    add.add_argument('--email', default='')
    add.add_argument('--role', action='append', default=[], choices=ALL_ROLE_NAMES)
    passwd = user.add_parser('passwd', help='set a password, read from stdin')
    passwd.add_argument('login')

    reindex = sub.add_parser('reindex', help='rebuild the search index from the database')
    reindex.add_argument('--check', action='store_true',
                         help='only report differences between the index and the database')
    reindex.add_argument('--batch', type=int, default=1000,
                         help='items a process takes at a time (default 1000)')
    reindex.add_argument('--processes', type=int, default=None,
                         help='processes that build the index (default: one per CPU, '
                              f'at most {search_reindex.MAX_PROCESSES}; 1: this one alone)')

    _backup_parsers(sub)

    indexer = sub.add_parser('indexer', help='run the search indexer in this process '
                                             '(for servers with kp_workspace.indexer = off)')
    indexer.add_argument('--once', action='store_true',
                         help='index what waits now, then stop')

    ocr = sub.add_parser('ocr', help='read scanned correspondence (for servers with '
                                     'kp_workspace.ocr = off)')
    ocr.add_argument('--pending', action='store_true', required=True,
                     help='read every scan waiting now, then stop')

    verify = sub.add_parser('verify', help='check the signatures of a PDF (exit 3: not valid)')
    verify.add_argument('file')
    audit = sub.add_parser('audit', help='the audit log').add_subparsers(
        dest='action', required=True)
    audit.add_parser(
        'verify', help='check the audit chains (read-only; works while the server runs)',
        description='Check every entry of the audit log against its chain, its head and the '
                    'anchor in the main database, and name the first entry that was changed, '
                    'removed or reordered. Exit status: 0 the log is intact, 3 it is not '
                    '(the first bad entry is named), 1 the databases could not be read, '
                    '2 usage.')
    ca = sub.add_parser('ca', help='certificate authorities').add_subparsers(
        dest='action', required=True)
    ca.add_parser('import', help='trust an external CA certificate (PEM)').add_argument('file')
    cert = sub.add_parser('cert', help='signing certificates').add_subparsers(
        dest='action', required=True)
    cert_import = cert.add_parser(
        'import', help="import a signer's PKCS#12 file; its password, then a new signing PIN, "
                       'are read from stdin')
    cert_import.add_argument('login')
    cert_import.add_argument('file')

    post = sub.add_parser('post', help='manage posts').add_subparsers(dest='action', required=True)
    assign = post.add_parser('assign', help='give a post to a user')
    assign.add_argument('post_id')
    assign.add_argument('login')
    assign.add_argument('--transfer', action='store_true',
                        help='relieve the present holders (the files stay with the post)')
    return parser


BACKUP_HELP = textwrap.dedent('''\
    Back up the data directory into DEST while the server runs: the main and the
    audit databases (repozo), the blob files and the secret key, with a manifest
    in DEST/runs/.  The first run into DEST is full; later runs add only what is
    new.  Not copied: the search index (restore rebuilds it) and the .ini file.
    Exit status: 0 done, 1 refused or failed (the message says why), 2 usage.''')
RESTORE_HELP = textwrap.dedent('''\
    Restore a backup made by kpw backup into the data directory of CONFIG, which
    must be empty: the databases (as of the newest run, or the newest run that
    started at or before --at), the blob files (checked against their checksums)
    and the secret key; then rebuild the search index, record the restore in the
    audit log and leave RESTORED.txt in the data directory.
    Exit status: 0 done, 1 refused or failed (the message says why), 2 usage.''')


def _when(text):
    try:
        return backups.parse_when(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e))


def _backup_parsers(sub):
    backup = sub.add_parser('backup', help='back up the data directory (full, then incremental)',
                            description=BACKUP_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    backup.add_argument('dest', metavar='DEST', help='the backup directory (new, empty, or one '
                                                     'kpw backup wrote before)')
    backup.add_argument('--full', action='store_true',
                        help='copy the databases in full even when DEST holds earlier runs')
    restore = sub.add_parser('restore', help='restore a backup into an empty data directory',
                             description=RESTORE_HELP,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    restore.add_argument('src', metavar='SRC', help='a directory kpw backup wrote')
    group = restore.add_mutually_exclusive_group()
    group.add_argument('--at', type=_when, metavar='TIME',
                       help='restore the newest run started at or before TIME (UTC, '
                            'YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)')
    group.add_argument('--list', action='store_true', help='list the runs in SRC and stop')


def _backup(args, out):
    run = backups.backup(backups.locations(args.config), args.dest, full=args.full)
    print(f'Backup run {run["name"]} in {os.path.abspath(args.dest)}:', file=out)
    for name, info in run['databases'].items():
        print(f'  {name} database: {info["kind"]}, {info["size"]} bytes copied, up to '
              f'transaction {info["last_tid"]} (committed {info["last_committed"]})', file=out)
    blobs = run['blobs']
    print(f'  blob files: {len(blobs["copied"])} copied ({blobs["copied_bytes"]} bytes); '
          f'{blobs["total"]} in this backup ({blobs["total_bytes"]} bytes)', file=out)
    keys = run['keys']
    print(f'  secret: {keys.get("secret.key") or keys.get("secret") or "none"}', file=out)
    print(f'  not included: {", ".join(run["not_included"])}', file=out)
    return 0


# Database servers that app processes share without kpw serve starting one, by scheme.
SHARED_STORAGES = {'postgres': 'PostgreSQL (RelStorage)', 'zeo': 'a ZEO server'}


def _serve(args, out):
    """FileStorages: a ZEO server on them, then the app processes.  A database server
    named in the configuration (PostgreSQL, ZEO): the app processes alone."""
    if args.workers < 1 or args.threads < 1:
        raise DomainError('--workers and --threads must be at least 1.')
    try:
        loc = backups.locations(args.config)
    except backups.BackupError:
        uri = _database_uris(args.config)['zodbconn.uri']
        storage = SHARED_STORAGES.get(uri.split(':', 1)[0])
        if storage is None:
            raise DomainError('kpw serve shares a data directory\'s FileStorages through ZEO, '
                              'or a database on PostgreSQL or a ZEO server; this '
                              f'configuration names another storage ({uri.split("?")[0]}).'
                              ) from None
        return serving.serve_shared(args.config, storage, args.workers, args.port,
                                    args.threads, out=out)
    return serving.serve(args.config, loc, args.workers, args.port, args.zeo_port, args.threads,
                       out=out)


def _database_uris(config):
    """``zodbconn.uri`` and ``zodbconn.uri.audit`` of ``config``, completed as the
    application completes them (:func:`kp_workspace.settings.read_settings`)."""
    settings = get_appsettings(config)
    read_settings(settings.global_conf, settings)
    return {name: settings[name] for name in ('zodbconn.uri', 'zodbconn.uri.audit')}


def _restore(args, out):
    loc = backups.locations(args.config)
    if args.list:
        for run in backups.runs(args.src):
            kinds = ', '.join(f'{n} {i["kind"]}' for n, i in run['databases'].items())
            print(f'{run["started"]}  {run["name"]}  ({kinds}; {run["blobs"]["total"]} blob '
                  'files)', file=out)
        return 0
    run = backups.choose_run(args.src, args.at)
    facts = backups.restore_files(loc, args.src, run)
    print(f'Restored run {run["name"]} (started {run["started"]}) into {loc.var_dir}: '
          f'{facts["blobs"]["restored"]} blob files.', file=out)
    env = _bootstrap(args.config)
    lines = []
    try:
        with env['request'].tm:
            conn = get_connection(env['request'])
            site = conn.root()[ROOT_KEY]
            log = ensure_audit_log(conn)
            entries, expected = len(log), run['databases']['audit'].get('audit_entries')
            if expected is not None and entries != expected:
                raise DomainError(f'The restored audit log has {entries} entries; the backup '
                                  f'says {expected}. The backup is damaged: do not use what '
                                  f'was restored into {loc.var_dir}.')
            lines.append(f'audit log: {entries} entries as backed up, then one for this '
                         'restore.')
            status = _reindex(argparse.Namespace(check=False, batch=1000), env, conn, site, out)
            lines.append('search index: rebuilt' + (' (some items failed: see kpw reindex)'
                                                     if status else '') + '.')
            Actor('console', 'console', log).record(
                'workspace.restored', 'workspace', backup=os.path.abspath(args.src),
                run=run['name'], started=run['started'],
                up_to=run['databases']['main']['last_committed'] or '')
        env['registry'].kpw_indexer.drain()
    finally:
        env['closer']()
        close_databases(env['registry'])
    note = backups.write_note(loc, args.src, run, facts, lines)
    print(f'What was restored is noted in {note}.', file=out)
    return status


def read_secret_line(prompt, stdin=None):
    stdin = stdin or sys.stdin
    if stdin.isatty():
        return getpass.getpass(prompt)
    return stdin.readline().rstrip('\n')


CHANGES = {'none': 'no', 'signatures': 'later signatures only', 'other': 'YES'}


def _stamp_note(sig):
    if sig.timestamp_trusted is None:
        return ''
    return ' (time-stamped)' if sig.timestamp_trusted else ' (time stamp NOT trusted)'


def _verify_read_only(args, out):
    """``kpw verify`` opens the database read-only: it works while the server runs."""
    db = _open_read_only(_database_uris(args.config)['zodbconn.uri'])
    try:
        conn = db.open()
        try:
            return _verify(args, conn.root()[ROOT_KEY], out)
        finally:
            conn.close()
    finally:
        db.close()


def _without_password(uri):
    """``uri`` as it may be shown: a password in it (``postgres://user:pw@host``) masked."""
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    return parts._replace(netloc=parts.netloc.replace(f':{parts.password}@', ':***@', 1)
                          ).geturl()


def _open_read_only(uri):
    """The database of ``uri``, opened read-only where the storage can be told so (a
    FileStorage then takes no lock; RelStorage refuses any write)."""
    if uri.startswith(('file://', 'postgres://')):
        uri += ('&' if '?' in uri else '?') + 'read_only=1'
    factory, dbkw = resolve_uri(uri)
    return DB(factory(), **dbkw)


def _audit_verify(args, out):
    """``kpw audit verify``: both databases opened read-only, the chains checked."""
    settings = _database_uris(args.config)
    dbs = []
    try:
        for name in ('zodbconn.uri', 'zodbconn.uri.audit'):
            try:
                dbs.append(_open_read_only(settings[name]))
            except Exception as e:  # (any storage: a missing file, a server down)
                raise DomainError(f'cannot open {_without_password(settings[name])}: {e}')
        main_conn, audit_conn = dbs[0].open(), dbs[1].open()
        try:
            log = audit_conn.root().get(AUDIT_KEY)
            if log is None:
                raise DomainError('there is no audit log in the audit database.')
            report = verify_audit(log, main_conn.root().get(ANCHORS_KEY))
            chains = len(log.heads())
        finally:
            main_conn.close()
            audit_conn.close()
    finally:
        for db in dbs:
            db.close()
    for note in report.notes:
        print(f'note: {note}', file=out)
    for problem in report.problems:
        print(f'BROKEN: {problem.describe()}', file=out)
    if report.valid:
        print(f'The audit log is intact: {report.entries} entries in {chains} chains.',
              file=out)
        return 0
    print(f'The audit log is NOT intact. First bad entry: {report.first.describe()}', file=out)
    return 3


def _verify(args, site, out):
    try:
        with open(args.file, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise DomainError(f'cannot read {args.file}: {e.strerror}')
    try:
        result = verify(site.signing, data)
    except NotAPdf:
        raise DomainError(f'{args.file} is not a PDF that can be read.')
    if not result.signatures:
        print(f'{args.file}: no signatures.', file=out)
        return 3
    for n, sig in enumerate(result.signatures, 1):
        when = sig.signed_at.strftime('%Y-%m-%d %H:%M UTC') if sig.signed_at else '?'
        print(f'Signature {n} ({sig.field}): {sig.signer or "?"} ({sig.signer_login or "-"}), '
              f'signed {when}{_stamp_note(sig)}', file=out)
        print(f'  signed bytes intact: {"yes" if sig.intact else "NO"}; chains to a trusted CA: '
              f'{"yes" if sig.trusted else "NO"}; revoked: '
              f'{"YES " + sig.revoked_at.date().isoformat() if sig.revoked else "no"}; '
              f'changed after signing: {CHANGES[sig.changes]}', file=out)
        print(f'  {"VALID" if sig.valid else "NOT VALID"}', file=out)
    print(f'{args.file}: {"all signatures valid" if result.valid else "NOT VALID"}.', file=out)
    return 0 if result.valid else 3


def read_password(stdin=None):
    stdin = stdin or sys.stdin
    if stdin.isatty():
        first = getpass.getpass('Password: ')
        if getpass.getpass('Again: ') != first:
            raise DomainError('The two passwords differ.')
        return first
    return stdin.readline().rstrip('\n')


def _progress(err):
    def show(done, total):
        width = 30
        filled = width * done // max(total, 1)
        err.write(f'\rreindex [{"#" * filled}{"." * (width - filled)}] {done}/{total}')
        if done >= total:
            err.write('\n')
        err.flush()
    return show


def _waiting(site, out):
    """Print what waits for the indexer and what it could not index.  :returns: whether any."""
    queue = site.index_queue
    if len(queue):
        print(f'{len(queue)} changes wait for the search indexer (the oldest for '
              f'{queue.lag():.1f} s).', file=out)
    failures = queue.failures()
    for item_id, (_at, reason) in sorted(failures.items())[:50]:
        print(f'failed: {item_id} ({reason})', file=out)
    return bool(len(queue) or failures)


def _reindex(args, env, conn, site, out):
    registry = env['registry']
    engine, indexer = registry.kpw_search, registry.kpw_indexer
    if args.check:
        if not engine.schema_current:
            print('The index was built with an older layout of its fields. '
                  'Run kpw reindex.', file=out)
            return 3
        missing, extra, stale = search_reindex.check(engine, site, args.batch,
                                                     trim=conn.cacheMinimize)
        for label, keys in (('missing', missing), ('extra', extra), ('stale', stale)):
            for key in keys[:50]:
                print(f'{label}: {key}', file=out)
            if len(keys) > 50:
                print(f'{label}: ... and {len(keys) - 50} more', file=out)
        if _waiting(site, out) or missing or extra or stale:
            print(f'The index differs from the database: {len(missing)} missing, '
                  f'{len(extra)} extra, {len(stale)} stale. Run kpw reindex, or let the '
                  'indexer catch up with what waits.', file=out)
            return 3
        print('The index matches the database.', file=out)
        return 0
    if not indexer.acquire():
        raise DomainError('The search indexer of a running server holds its lock; stop the '
                          'server (or set kp_workspace.indexer = off) and run this again.')
    # What waits now is covered by the rebuild (it reads this same snapshot); what
    # is committed while it runs stays in the queue for the indexer.
    covered = site.index_queue.oldest(len(site.index_queue) + 1)
    earlier = dict.fromkeys(site.index_queue.failures())  # (retried by the rebuild)
    processes = getattr(args, 'processes', None) or search_reindex.default_processes()
    try:
        written, failures = search_reindex.rebuild(
            engine, site, args.batch, progress=_progress(sys.stderr), trim=conn.cacheMinimize,
            processes=processes, uri=registry.settings['zodbconn.uri'])
    except RuntimeError as e:  # (a worker failed; the queue still holds what waited)
        raise DomainError(f'The rebuild failed; the index is incomplete. Run kpw reindex '
                          f'again.\n{e}')
    indexer.forget(covered, {**earlier, **failures})
    print(f'Reindexed {len(site.desk.items)} items ({written} documents).', file=out)
    for item_id, reason in sorted(failures.items()):
        print(f'failed: {item_id} ({reason})', file=out)
    return 3 if failures else 0


def _indexer(args, env, out):
    """``kpw indexer``: the indexer's loop in the foreground, until a signal."""
    indexer = env['registry'].kpw_indexer
    if args.once:
        done = indexer.drain()
        if done is None:
            raise DomainError('Another process is indexing (it holds the lock).')
        print(f'Indexed {done} changes.', file=out)
        return 0
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: indexer.stop_soon())
    print('Indexing; stop with Ctrl-C or SIGTERM.', file=out, flush=True)
    indexer.run()
    return 0


def _ocr(args, env, out):
    """``kpw ocr --pending``: read the scans waiting now, then index what they said."""
    from ..ocr import engine
    if not engine.available():
        raise DomainError('Tesseract and pdftoppm are not installed (see the Makefile).')
    done = env['registry'].kpw_ocr.run_pending()
    env['registry'].kpw_indexer.drain()   # (None when another process indexes)
    print(f'Read {done} scans.', file=out)
    return 0


def _run(args, env, out):
    request = env['request']
    conn = get_connection(request)
    site = conn.root()[ROOT_KEY]
    actor = Actor('console', 'console', ensure_audit_log(conn))
    principals = site['principals']
    if args.command == 'init':
        if args.demo or (args.demo_if_empty and len(principals.users) == 0):
            added = load_demo(site, actor, env['registry'].kpw_settings.secret,
                              env['registry'].kpw_settings.crl_url,
                              env['registry'].kpw_settings.ocsp_url)
            print(f'Demo data loaded ({added} objects added).', file=out)
        print(f'Workspace ready at generation {site.generation}.', file=out)
    elif args.command == 'demo':
        added = load_demo(site, actor, env['registry'].kpw_settings.secret,
                          env['registry'].kpw_settings.crl_url,
                          env['registry'].kpw_settings.ocsp_url)
        print(f'Demo data loaded ({added} objects added).', file=out)
    elif args.command == 'evolve':
        steps = pending(site)
        if args.check:
            for gen, step in steps:
                print(f'pending: {gen} {step.__doc__.strip()}', file=out)
            print(f'Database at generation {site.generation}; this release is at {GENERATION}.',
                  file=out)
        else:
            print(f'Database at generation {site.generation}.', file=out)
    elif args.command == 'reindex':
        return _reindex(args, env, conn, site, out)
    elif args.command == 'verify':
        return _verify(args, site, out)
    elif args.command == 'ca' and args.action == 'import':
        with open(args.file, 'rb') as f:
            cert = site.signing.import_ca(f.read())
        actor.record('signing.ca_trusted', 'signing', subject=cert.subject.rfc4514_string())
        print(f'Trusted: {cert.subject.rfc4514_string()}', file=out)
    elif args.command == 'cert' and args.action == 'import':
        user = principals.user(args.login)
        with open(args.file, 'rb') as f:
            data = f.read()
        password = read_secret_line('PKCS#12 password: ').encode() or None
        pin = read_secret_line('New signing PIN: ')
        record = site.signing.import_pkcs12(user.login, data, password, pin,
                                            env['registry'].kpw_settings.secret, 'console')
        actor.record('signing.certificate_imported', f'user:{user.login}', serial=record.serial)
        print(f'Certificate {record.serial} ({record.name}) imported for {user.login}.',
              file=out)
    elif args.command == 'user' and args.action == 'add':
        user = principals.add_user(actor, args.login, args.name, read_password(),
                                   email=args.email, roles=args.role)
        print(f'User {user.login} created.', file=out)
    elif args.command == 'user' and args.action == 'passwd':
        user = principals.user(args.login)
        # (at the console, whoever runs kpw sets it: for themselves, or to recover a login)
        principals.reset_password(actor, user, read_password(), temporary=False)
        print(f'Password of {user.login} set; their sessions and tokens have ended.', file=out)
    elif args.command == 'post' and args.action == 'assign':
        post, user = principals.post(args.post_id), principals.user(args.login)
        if args.transfer:
            principals.transfer(actor, post, user)
        else:
            principals.assign(actor, post, user)
        print(f'{user.login} now holds {post.post_id}.', file=out)


def _bootstrap(config):
    """The application (without its indexer and scan reader threads) and a request, as
    ``pyramid.paster.bootstrap`` would make them."""
    settings = get_appsettings(config)
    app = make_app(settings.global_conf, **{**settings, 'kp_workspace.indexer': 'off',
                                            'kp_workspace.ocr': 'off'})
    env = prepare(registry=app.registry)
    env['app'] = app
    return env


def main(argv=None, out=None, err=None):
    """Run one command.  :returns: the process exit status (0 ok, 1 refused, 2 usage,
    3 a check found a fault: a signature, the index, the audit chains)."""
    out, err = out or sys.stdout, err or sys.stderr
    args = _parser().parse_args(argv)
    if not os.path.exists(args.config):
        print(f'kpw: no configuration file {args.config} (use -c)', file=err)
        return 2
    setup_logging(args.config)
    # These open no application: backup runs beside a server, restore fills an empty
    # data directory before it opens one, the verifications only read.
    standalone = {'backup': _backup, 'restore': _restore, 'verify': _verify_read_only,
                  'audit': _audit_verify, 'serve': _serve}
    if args.command in standalone:
        try:
            return standalone[args.command](args, out)
        except DomainError as e:
            print(f'kpw: {e}', file=err)
            return 1
    try:
        env = _bootstrap(args.config)
    except LockError:
        print('kpw: the database is in use by a running server. Stop it first, or serve the '
              'database through ZEO so that kpw can work alongside.', file=err)
        return 1
    except EvolveError as e:  # (a database a newer release wrote)
        print(f'kpw: {e}', file=err)
        return 1
    try:
        if args.command == 'evolve' and not args.check:
            # Start-up may already have evolved (kp_workspace.evolve_on_start).
            before = env['registry'].kpw_generations[0]
            _before, after = prepare_database(env['registry'], evolve=True)
            print(f'Evolved from generation {before} to {after}.', file=out)
            return 0
        if args.command == 'indexer':
            return _indexer(args, env, out)
        if args.command == 'ocr':
            return _ocr(args, env, out)
        if args.command == 'init' and env['registry'].kpw_generations[1] == 0:
            # A new database is built by the evolve steps even where start-up does not
            # run them (kp_workspace.evolve_on_start = false, as in production.ini).
            prepare_database(env['registry'], evolve=True)
        with env['request'].tm:
            status = _run(args, env, out)
        if not getattr(args, 'check', False):  # (a check changes nothing, not even the index)
            env['registry'].kpw_indexer.drain()  # (None when another process indexes)
        if status:
            return status
    except DomainError as e:
        print(f'kpw: {e}', file=err)
        return 1
    finally:
        env['closer']()
        close_databases(env['registry'])
    return 0


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
