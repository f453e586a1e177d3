"""The OpenAPI document's examples fit their own schemas (objects are closed: an example
missing a field, or carrying one the API no longer gives, fails here)."""
import jsonschema
import pytest
import referencing
from referencing.jsonschema import DRAFT202012

from kp_workspace.views.api.examples import REQUEST_EXAMPLES, SCHEMA_EXAMPLES
from kp_workspace.views.api.openapi import openapi_document

DOCUMENT = openapi_document('http://localhost')
REGISTRY = referencing.Registry().with_resource(
    'urn:kpw', DRAFT202012.create_resource(DOCUMENT))


def pointer(*parts):
    """A JSON pointer into the document (``/`` and ``~`` escaped)."""
    return ''.join('/' + p.replace('~', '~0').replace('/', '~1') for p in parts)


def _check(where, instance):
    """Validate ``instance`` against the schema at ``where`` (a pointer) in the document,
    so that its ``$ref`` resolve there."""
    jsonschema.Draft202012Validator(
        {'$ref': f'urn:kpw#{where}'}, registry=REGISTRY,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(instance)


def schema_at(name):
    return pointer('components', 'schemas', name)


@pytest.mark.parametrize('name', sorted(SCHEMA_EXAMPLES))
def test_a_schema_example_fits_its_schema(name):
    schema = DOCUMENT['components']['schemas'][name]
    assert schema['examples'] == [SCHEMA_EXAMPLES[name]]
    _check(schema_at(name), SCHEMA_EXAMPLES[name])


@pytest.mark.parametrize('key', sorted(REQUEST_EXAMPLES))
def test_a_request_example_fits_its_body(key):
    method, path = key.split(' ', 1)
    media = DOCUMENT['paths'][path][method.lower()]['requestBody']['content'][
        'application/json']
    assert media['example'] == REQUEST_EXAMPLES[key]
    _check(pointer('paths', path, method.lower(), 'requestBody', 'content', 'application/json',
                   'schema'), media['example'])


def test_an_example_that_does_not_fit_fails():
    broken = dict(SCHEMA_EXAMPLES['File'], notes_count='one')
    with pytest.raises(jsonschema.ValidationError):
        _check(schema_at('File'), broken)
    with pytest.raises(jsonschema.ValidationError):
        _check(schema_at('Inbox'),
               dict(SCHEMA_EXAMPLES['Inbox'], extra=1))
    note = {k: v for k, v in SCHEMA_EXAMPLES['Note'].items() if k != 'n'}
    with pytest.raises(jsonschema.ValidationError):   # (inside a $ref)
        _check(schema_at('File'),
               dict(SCHEMA_EXAMPLES['File'], notes=[note]))
