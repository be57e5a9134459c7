"""The fuzz-under-load scenario draws its requests from the API schema with schemathesis."""

import pytest

from reliability import fuzz

schemathesis = pytest.importorskip("schemathesis", reason="a CI tool: make ci-tools installs it")


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


def _operations(cases) -> set[tuple[str, str]]:
    return {(case.method.upper(), case.path) for case in cases}


def test_every_operation_but_logout_all_gets_cases(schema):
    cases = fuzz.schema_cases(schema, per_operation=3, seed=1)
    everything = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    assert _operations(cases) == everything - fuzz.SKIPPED_OPERATIONS
    assert ("POST", "/api/notes/") in _operations(cases)


def test_the_same_seed_draws_the_same_cases(schema):
    def drawn(seed):
        return [(case.method, case.path, repr(case.body), case.query) for case in fuzz.schema_cases(schema, 3, seed)]

    assert drawn(7) == drawn(7)
