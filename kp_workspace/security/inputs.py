"""The one check every request's input passes before a view sees it.

It runs when the request's context has been found (``ContextFound``, before any
view or CSRF check), inside the exception view tween, so that a refusal is
answered by the error views (JSON ``{"error": ...}`` under ``/api/``, an error
page in the browser) with status 400 and a message, and nothing is changed.
The address alone is read earlier, by a tween in front of every other (the
transaction tween asks who the user is, which reads the path): an address that
cannot be read is replaced by one that can, and the refusal waits for the
same moment as the others.  It refuses:

- a path or query string that is not UTF-8 (``/files/%ff``, ``?q=%ff%fe``);
- a body in any charset but UTF-8 (an unknown one included);
- a form body that is not UTF-8, a multipart body without a boundary, or one
  cut short (no closing boundary);
- under ``/api/``, a body that is not one JSON object, that nests deeper than
  :data:`MAX_DEPTH`, uses ``NaN``/``Infinity``, or is longer than :data:`MAX_JSON`;
- any text value (query, form field, file name, JSON string or key) holding a lone
  surrogate, NUL or another control character but tab and line breaks, or longer
  than :data:`MAX_VALUE` characters.

Field-specific rules (one-line names without direction controls, each field's
limit) are the domain's, in :mod:`kp_workspace.text_rules`.

The original of a refused path is kept in the environ as ``kpw.refused_path``.
"""
import json
import re
from urllib.parse import parse_qsl

from pyramid.i18n import TranslationStringFactory
from pyramid.events import ContextFound
from pyramid.tweens import INGRESS
from webob.compat import cgi_FieldStorage
from webob.multidict import MultiDict

from ..errors import DomainError
from ..text_rules import problem

_ = TranslationStringFactory('kp_workspace')
MAX_FIELDS = 1000         # fields in one form: no form of the workspace has near as many
FILE_FIELDS = ('file',)   # the only form field that carries a file (attachments, verify)

MAX_DEPTH = 20          # JSON arrays and objects inside one another
MAX_JSON = 4 << 20      # bytes of a JSON body
MAX_VALUE = 200_000     # characters of any one text value (the longest field is 50,000)
MAX_QUERY_VALUE = 4000  # characters of a query string value
UTF8 = ('utf-8', 'utf8')
FORMS = ('application/x-www-form-urlencoded', 'multipart/form-data')
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class BadInput(DomainError):
    """A request whose input cannot be read or may not be stored (400)."""


def check_value(value, name, limit=MAX_VALUE):
    """Refuse a text value the workspace can never store.  :raises BadInput:"""
    if len(value) > limit:
        raise BadInput(_('The value of "${name}" is too long (at most ${n} characters).',
                         mapping={'name': _printable(name), 'n': limit}), field=name)
    message = problem(value, name=_printable(name))
    if message is not None:
        raise BadInput(message, field=name)


def _printable(name):
    """A field name safe to echo in a message."""
    name = ''.join(c if c.isprintable() and not '\ud800' <= c <= '\udfff' else '?'
                   for c in name)
    return name[:60]


def _utf8(raw):
    """A WSGI (latin-1) string as the UTF-8 text it carries, or None."""
    try:
        return raw.encode('latin-1').decode('utf-8')
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def check_address(request):
    """The path and the query string.  :raises BadInput:"""
    environ = request.environ
    path = _utf8(environ.get('PATH_INFO', ''))
    if path is None or problem(path) is not None:
        _repair(environ)
        raise BadInput(_('This address is not valid: it contains bytes that are not UTF-8 '
                         'text, or control characters.'))
    query = environ.get('QUERY_STRING', '')
    if query:
        try:
            items = list(request.GET.items())
        except UnicodeDecodeError:
            environ['QUERY_STRING'] = ''
            raise BadInput(_('The query string is not valid: it contains bytes that are not '
                             'UTF-8 text.'))
        try:
            for name, value in items:
                check_value(name, name, MAX_QUERY_VALUE)
                check_value(value, name, MAX_QUERY_VALUE)
        except BadInput:
            environ['QUERY_STRING'] = ''  # the error page's links read it
            raise


def _repair(environ):
    raw = environ.get('PATH_INFO', '')
    environ['kpw.refused_path'] = raw
    text = raw.encode('latin-1', 'replace').decode('utf-8', 'replace')
    text = ''.join(c if c.isprintable() else '\ufffd' for c in text)
    environ['PATH_INFO'] = text.encode('utf-8').decode('latin-1')
    environ['QUERY_STRING'] = ''
    environ.pop('webob._parsed_query_vars', None)


def check_charset(request):
    """Only UTF-8 text is accepted.  :raises BadInput:"""
    charset = _params(request.headers.get('Content-Type', '')).get('charset')
    if charset is not None and charset.strip().strip('"').lower() not in UTF8:
        raise BadInput(_('Send text as UTF-8: the character set "${charset}" is not accepted.',
                         mapping={'charset': _printable(charset)}))


def _params(content_type):
    found = {}
    for part in content_type.split(';')[1:]:
        key, _sep, value = part.partition('=')
        found[key.strip().lower()] = value.strip()
    return found


def _has_body(request):
    return bool(request.content_length) or request.environ.get(
        'HTTP_TRANSFER_ENCODING', '').lower() == 'chunked'


def check_form(request):
    """A form body: UTF-8, well framed, and every value and file name acceptable.

    :raises BadInput:
    """
    if request.content_type == 'multipart/form-data':
        boundary = _params(request.headers.get('Content-Type', '')).get('boundary', '')
        boundary = boundary.strip('"')
        if not boundary or len(boundary) > 70:
            raise BadInput(_('The form could not be read: it has no multipart boundary.'))
        items = _strict_multipart(request, boundary)
    else:
        try:
            # the parser WebOb's form parsing uses, but refusing what it would replace
            parse_qsl(request.body.decode('utf-8'), keep_blank_values=True,
                      encoding='utf-8', errors='strict', max_num_fields=MAX_FIELDS)
        except UnicodeDecodeError:
            raise BadInput(_('The form could not be read: it is not UTF-8 text.'))
        except ValueError:  # (more than MAX_FIELDS: refused before they are all parsed)
            raise BadInput(_('The form has too many fields (at most ${n}).',
                             mapping={'n': MAX_FIELDS}))
        items = list(request.POST.items())
    if len(items) > MAX_FIELDS:
        raise BadInput(_('The form has too many fields (at most ${n}).',
                         mapping={'n': MAX_FIELDS}))
    for name, value in items:
        check_value(name, name)
        if isinstance(value, str):
            check_value(value, name)
        elif name not in FILE_FIELDS:  # (a view would get a file where it reads text)
            raise BadInput(_('The form field "${name}" must be text, not a file.',
                             mapping={'name': _printable(name)}))
        else:
            filename = getattr(value, 'filename', None)
            if filename:
                check_value(filename, name, 1000)


class _LastRead:
    """A body reader that remembers the last bytes the parser took."""

    def __init__(self, fp):
        self.fp = fp
        self.last = b''

    def readline(self, size=-1):
        line = self.fp.readline(size)
        if line:
            self.last = line
        return line

    def read(self, size=-1):
        data = self.fp.read(size)
        if data:
            self.last = data[-256:]
        return data


def _strict_multipart(request, boundary):
    """Parse a multipart body as WebOb would, but refusing text that is not UTF-8
    (WebOb replaces it); WebOb's ``request.POST`` then returns this parse."""
    environ = request.environ
    fs_environ = dict(environ, QUERY_STRING='')
    fs_environ.setdefault('CONTENT_LENGTH', '0')
    request.make_body_seekable()
    request.body_file_raw.seek(0)
    reader = _LastRead(request.body_file)
    try:
        fs = cgi_FieldStorage(fp=reader, environ=fs_environ, keep_blank_values=True,
                              encoding='utf8', errors='strict', max_num_fields=MAX_FIELDS)
        fields = MultiDict.from_fieldstorage(fs)
    except UnicodeError:
        raise BadInput(_('The form could not be read: it is not UTF-8 text.'))
    except (ValueError, TypeError, LookupError):
        raise BadInput(_('The form could not be read: its multipart framing is broken.'))
    # The parser stops at the closing boundary; a body cut short ends elsewhere.
    closing = b'--' + boundary.encode('latin-1', 'replace') + b'--'
    if fs.list and not reader.last.rstrip().endswith(closing):
        raise BadInput(_('The form could not be read: it was cut short (its closing '
                         'boundary is missing). Send it again.'))
    # WebOb's own cache of the parsed form (webob.request.BaseRequest.POST)
    environ['webob._parsed_post_vars'] = (fields, request.body_file_raw)
    return list(fields.items())


def check_json(request):
    """An API body: one JSON object, not too deep, no NaN, acceptable strings.

    :raises BadInput:
    """
    if request.content_length is not None and request.content_length > MAX_JSON:
        raise BadInput(_('The body is too large (at most ${mb} MB of JSON).',
                         mapping={'mb': MAX_JSON >> 20}), status=413)
    raw = request.body
    if len(raw) > MAX_JSON:
        raise BadInput(_('The body is too large (at most ${mb} MB of JSON).',
                         mapping={'mb': MAX_JSON >> 20}), status=413)
    try:
        text = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise BadInput(_('The body must be a JSON object in UTF-8.'))
    depth = deepest = 0
    for token in _TOKENS.findall(raw):
        if token in (b'[', b'{'):
            depth += 1
            deepest = max(deepest, depth)
        elif token in (b']', b'}'):
            depth -= 1
    if deepest > MAX_DEPTH:
        raise BadInput(_('The JSON body nests too deep (at most ${n} levels).',
                         mapping={'n': MAX_DEPTH}))
    try:
        body = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise BadInput(_('The body must be a JSON object.'))
    if not isinstance(body, dict):
        raise BadInput(_('The body must be a JSON object.'))
    _check_json_strings(body, '')


def _no_constant(name):
    raise ValueError(f'{name} is not JSON')


def _check_json_strings(value, name):
    if isinstance(value, str):
        check_value(value, name)
    elif isinstance(value, dict):
        for key, item in value.items():
            check_value(key, key, 200)
            _check_json_strings(item, key)
    elif isinstance(value, list):
        for item in value:
            _check_json_strings(item, name)


def check_request(request):
    """Every check above that applies to ``request`` (the address was checked by the
    tween).  :raises BadInput:"""
    refused = request.environ.pop(REFUSED, None)
    if refused is not None:
        raise refused
    check_charset(request)
    if request.content_type in FORMS:
        if request.method in ('POST', 'PUT', 'PATCH') or _has_body(request):
            check_form(request)
    elif _has_body(request) and request.path_info.startswith('/api/'):
        check_json(request)


REFUSED = 'kpw.refused_input'


def address_check_tween_factory(handler, registry):
    """Check the address before anything reads it; the refusal is raised by
    :func:`check_request`, where the error views answer it."""
    def address_check_tween(request):
        try:
            check_address(request)
        except BadInput as refused:
            request.environ[REFUSED] = refused
        return handler(request)
    return address_check_tween


def on_context_found(event):
    check_request(event.request)


def includeme(config):
    config.add_tween('kp_workspace.security.inputs.address_check_tween_factory', under=INGRESS)
    config.add_subscriber(on_context_found, ContextFound)
