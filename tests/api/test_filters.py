"""api.filters.FilterSet: the base of the API's query filters."""

import pytest

from audit.filters import AuditEntryFilter
from notes.filters import NoteFilter


@pytest.mark.parametrize("filterset", [NoteFilter, AuditEntryFilter])
def test_the_form_class_is_built_once_per_filterset(filterset):
    assert filterset(data={}).get_form_class() is filterset(data={}).get_form_class()


def test_each_filterset_keeps_a_form_of_its_own_fields():
    assert set(NoteFilter(data={}).form.fields) == {"search"}
    assert "action" in AuditEntryFilter(data={}).form.fields
