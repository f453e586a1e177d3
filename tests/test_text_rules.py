"""The shared text rules, the request check's functions and the number/date parameters,
as properties: any input is either refused with a message or comes back valid."""
import json
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webob import Request

from kp_workspace.errors import DomainError

LINE_ALLOWED = '\t\n\r'


def rules():
    from kp_workspace import text_rules
    return text_rules


def inputs():
    from kp_workspace.security import inputs as module
    return module


def is_storable(text, single_line):
    """What the rules promise about text they accept, written independently."""
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:
            return False
        if unicodedata.category(char) == 'Cc' and (single_line or char not in LINE_ALLOWED):
            return False
        if code in range(0xFDD0, 0xFDF0) or (code & 0xFFFE) == 0xFFFE:
            return False
        if single_line and (char in '\u2028\u2029' or char in rules().BIDI):
            return False
    text.encode('utf-8')  # never raises for accepted text
    return True


# every code point, surrogates included, with the interesting ones often
hostile_chars = st.one_of(
    st.characters(codec=None, categories=None),
    st.sampled_from('\x00\x07\x1b\x7f\x85\t\n\r\ud800\udfff\ufffe\uffff\u202a\u202e\u2066'
                    '\u2069\u200e\u200f\u061c\u2028\u2029\ufeff\u200d'),
)
hostile_text = st.text(hostile_chars, max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=hostile_text, single_line=st.booleans(), maximum=st.integers(1, 30),
       minimum=st.integers(0, 3))
def test_check_text_refuses_or_returns_valid_text(text, single_line, maximum, minimum):
    try:
        result = rules().check_text(text, 'f', maximum, minimum=minimum, single_line=single_line)
    except DomainError as err:
        assert err.status == 400 and err.field == 'f' and err.message
        return
    assert result == text.strip()
    assert minimum <= len(result) <= maximum
    assert is_storable(result, single_line)


@settings(max_examples=200, deadline=None)
@given(text=hostile_text)
def test_a_refusal_says_why(text):
    message = rules().problem(text, single_line=True)
    assert (message is None) == is_storable(text, True)
    message = rules().problem(text)
    assert (message is None) == is_storable(text, False)


@given(value=st.one_of(st.integers(), st.lists(st.text()), st.dictionaries(st.text(), st.text()),
                       st.binary(), st.floats()))
def test_check_text_refuses_what_is_not_text(value):
    with pytest.raises(DomainError):
        rules().check_text(value, 'f', 100)


def test_check_text_examples():
    check_text, check_name = rules().check_text, rules().check_name
    assert check_text('  Funds are available.\n', 'text', 100) == 'Funds are available.'
    assert check_text('two\nlines\twith tab', 'text', 100) == 'two\nlines\twith tab'
    assert check_text(None, 'text', 100, minimum=0) == ''
    assert check_name('محکمہ خزانہ', 'title', 100) == 'محکمہ خزانہ'
    assert check_name('emoji \U0001F600 ok', 'title', 100)
    # prose may carry the marks and isolates Urdu writers use, never an override
    assert check_text('a \u200f note \u2066x\u2069', 'text', 100)
    for bad in ('a \u202e note', 'a \u202d note'):
        with pytest.raises(DomainError, match='changes the direction'):
            check_text(bad, 'text', 100)
    # a one-line name refuses what shows nothing; Urdu's non-joiner stays
    with pytest.raises(DomainError, match='invisible'):
        check_text('Admin\u200bistrator', 'name', 100, single_line=True)
    assert check_text('\u0646\u200c\u06cc', 'name', 100, single_line=True)
    for bad in ('evil \u202e name', 'two\nlines', 'mark \u200f', 'iso \u2066x\u2069'):
        with pytest.raises(DomainError):
            check_name(bad, 'title', 100)
    with pytest.raises(DomainError, match='too long'):
        check_text('x' * 11, 'text', 10)
    with pytest.raises(DomainError) as err:
        check_text('ab', 'text', 10, minimum=3)
    assert err.value.message.mapping == {'n': 3}


@given(text=hostile_text)
def test_displayable_always_encodes(text):
    shown = rules().displayable(text)
    shown.encode('utf-8')
    assert len(shown) == len(text)
    assert shown == ''.join('\ufffd' if '\ud800' <= c <= '\udfff' else c for c in text)


@given(text=st.one_of(st.none(), hostile_text))
def test_scrub_makes_extracted_text_storable(text):
    scrubbed = rules().scrub(text)
    if text is None:
        assert scrubbed is None
    else:
        scrubbed.encode('utf-8')
        assert rules().problem(scrubbed) is None


# --- the request check -------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(text=hostile_text, limit=st.integers(1, 50))
def test_check_value_refuses_or_accepts_storable_text(text, limit):
    try:
        inputs().check_value(text, 'name\x00\ud800', limit)
    except DomainError as err:
        assert err.status == 400
        # the refused field's name is echoed only in printable form
        assert '\x00' not in str(err) and '\ud800' not in str(err)
        return
    assert len(text) <= limit and is_storable(text, single_line=False)


def api_request(body, content_type='application/json', path='/api/v1/files/x/notes'):
    return Request.blank(path, method='POST', body=body, content_type=content_type)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
              hostile_text),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(hostile_text, children, max_size=4)),
    max_leaves=30)


def strings_in(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_in(v)


def depth_of(value):
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=json_values)
def test_check_json_refuses_or_passes_a_clean_object(value):
    body = json.dumps(value).encode('utf-8', 'surrogatepass')
    try:
        inputs().check_json(api_request(body))
    except DomainError as err:
        assert err.status in (400, 413) and err.message
        return
    parsed = json.loads(body)
    assert isinstance(parsed, dict)
    assert depth_of(parsed) <= inputs().MAX_DEPTH
    for text in strings_in(parsed):
        assert is_storable(text, single_line=False)
    assert 'NaN' not in body.decode() or any('NaN' in s for s in strings_in(parsed))


@settings(max_examples=300, deadline=None)
@given(body=st.binary(max_size=200))
def test_check_json_never_fails_on_bytes(body):
    try:
        inputs().check_json(api_request(body))
    except DomainError as err:
        assert err.status == 400
    else:
        assert isinstance(json.loads(body), dict)


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=60))
def test_check_address_refuses_or_leaves_readable_text(raw):
    from urllib.parse import quote_from_bytes
    request = Request.blank('/search')
    request.environ['PATH_INFO'] = '/files/' + raw.decode('latin-1')
    request.environ['QUERY_STRING'] = 'q=' + quote_from_bytes(raw)
    try:
        inputs().check_address(request)
    except DomainError as err:
        assert err.status == 400
        # what the error page reads of the address can always be read
        request.path_qs
        request.GET.items()
        return
    text = raw.decode('utf-8')
    assert is_storable(text, single_line=False)
    assert request.path_info == '/files/' + text and request.GET['q'] == text


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200), boundary=st.sampled_from(['', 'xyz', '"xyz"']))
def test_check_form_never_fails_on_bytes(body, boundary):
    content_type = 'multipart/form-data' + (f'; boundary={boundary}' if boundary else '')
    for kind in (content_type, 'application/x-www-form-urlencoded'):
        request = api_request(body, kind, path='/files/x/attachments')
        try:
            inputs().check_form(request)
        except DomainError as err:
            assert err.status == 400
        else:
            for name, value in request.POST.items():
                assert is_storable(name, False)
                assert is_storable(value if isinstance(value, str) else value.filename, False)


@pytest.mark.parametrize('content_type', [
    'application/json; charset=klingon', 'application/json; charset=latin-1',
    'text/plain; charset="utf-16"', 'application/x-www-form-urlencoded; charset=x'])
def test_check_charset_refuses_all_but_utf8(content_type):
    with pytest.raises(DomainError) as err:
        inputs().check_charset(api_request(b'{}', content_type))
    assert 'Send text as UTF-8' in str(err.value)
    inputs().check_charset(api_request(b'{}', 'application/json; charset=UTF-8'))
    inputs().check_charset(api_request(b'{}', 'application/json; charset="utf8"'))


# --- number and date parameters ------------------------------------------------------------

def params_request(**params):
    from urllib.parse import urlencode
    return Request.blank('/?' + urlencode(params))


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.text(max_size=30), st.integers().map(str),
                     st.floats(allow_nan=True).map(str)),
       minimum=st.integers(-10, 10), span=st.integers(0, 10 ** 7))
def test_whole_number_refuses_or_is_in_range(raw, minimum, span):
    from kp_workspace.views.params import whole_number
    maximum = minimum + span
    try:
        value = whole_number(params_request(n=raw), 'n', 'default', minimum, maximum)
    except DomainError as err:
        assert err.status == 400 and err.field == 'n'
        return
    if not raw.strip():
        assert value == 'default'
    else:
        assert isinstance(value, int) and minimum <= value <= maximum
        assert value == int(raw.strip())


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.text(max_size=20), st.dates().map(lambda d: d.isoformat())))
def test_day_refuses_or_is_in_range(raw):
    from kp_workspace.views.params import EARLIEST, LATEST, day
    try:
        value = day(params_request(d=raw), 'd')
    except DomainError as err:
        assert err.status == 400 and err.field == 'd'
        return
    assert value is None or EARLIEST <= value <= LATEST


@given(raw=st.one_of(st.text(max_size=20), st.floats(allow_nan=True).map(str)))
def test_finite_number(raw):
    import math
    from kp_workspace.views.params import finite_number
    try:
        value = finite_number(raw, 'after')
    except DomainError:
        return
    assert math.isfinite(value)


def test_note_number():
    from kp_workspace.views.params import note_number
    assert note_number('12') == 12
    for bad in ('', '-1', '١', '9' * 10, '1e3', None):
        assert note_number(bad) is None


def test_check_text_names_the_broken_character():
    with pytest.raises(DomainError, match='lone surrogate'):
        rules().check_text('a \ud800 b', 'text', 100)
    with pytest.raises(DomainError) as err:
        rules().check_text('a \x1b b', 'text', 100)
    assert err.value.message.mapping == {'code': '001B'}


def test_json_over_the_size_limit_is_413(monkeypatch):
    monkeypatch.setattr(inputs(), 'MAX_JSON', 10)
    with pytest.raises(DomainError) as err:
        inputs().check_json(api_request(b'{"text": "a long enough body"}'))
    assert err.value.status == 413
    # sent in chunks, without a declared length
    request = api_request(b'{"text": "a long enough body"}')
    del request.environ['CONTENT_LENGTH']
    request.environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
    request.environ['wsgi.input_terminated'] = True
    with pytest.raises(DomainError) as err:
        inputs().check_json(request)
    assert err.value.status == 413


def test_multipart_part_with_its_own_length():
    body = (b'--xyz\r\nContent-Disposition: form-data; name="title"\r\nContent-Length: 5\r\n\r\n'
            b'hello\r\n--xyz--\r\n')
    request = api_request(body, 'multipart/form-data; boundary=xyz', path='/files/x/attachments')
    inputs().check_form(request)
    assert request.POST['title'] == 'hello'
