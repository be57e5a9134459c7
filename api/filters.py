"""The base of the API's query filters: a filter that is sent must hold a value.

It also builds its form class once per FilterSet class: django-filter creates
a new one with ``type()`` on every request (a measurable share of a list
request's time, bench/README.md), although our filters never change per
request.

django-filter skips a filter whose value is empty, so ``?until=`` or
``?action=`` listed everything although the schema allows no empty date or
action there (found by schemathesis). Free-text filters (``CharFilter``, e.g.
``search``) may still be empty: an empty needle matches everything.
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend


class FilterSet(django_filters.FilterSet):
    """A FilterSet whose typed filters refuse an empty value (400) instead of ignoring it."""

    _form_classes: dict[type, type] = {}

    def get_form_class(self):
        cls = type(self)
        if cls not in FilterSet._form_classes:
            FilterSet._form_classes[cls] = super().get_form_class()
        return FilterSet._form_classes[cls]

    def is_valid(self):
        valid = super().is_valid()
        for name, query_filter in self.filters.items():
            if isinstance(query_filter, django_filters.CharFilter):
                continue
            if name in self.data and not self.data.get(name, "").strip():
                self.form.add_error(name, _("This field may not be blank."))
                valid = False
        return valid


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds no FilterSet when the request sends none of its filters.

    Validating an empty form changes nothing, yet costs a form, its fields and
    their cleaning on every plain list request (bench/README.md).
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            return queryset
        return super().filter_queryset(request, queryset, view)
