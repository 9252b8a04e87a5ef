"""List pages rendered from `.values()` rows by the output serializer's own fields.

Serialising a page of model instances costs Django's instantiation of every row and of each row
it joins (a version brings its model, its parent and its registrant), then DRF's walk of every
field's `source` through those objects: most of a list request's Python. `Rows` reads the
columns the serializer's fields name (`model.slug` as `model__slug`) in one `.values()` query
and passes each value through the same field's `to_representation`, so the JSON is the
serializer's, key order and formats included; tests/api/test_list_rows.py holds the two to the
same bytes. Fields that are not a column (a SerializerMethodField) are computed for the whole
page at once by a function given by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any

from django.db.models import QuerySet
from rest_framework.fields import SerializerMethodField
from rest_framework.serializers import Serializer

# A computed field: the page's rows in, one value per row out (in the same order).
Computed = Callable[[Sequence[dict[str, Any]]], list[Any]]


class Rows:
    """How a list page of `serializer_class` is read as `.values()` rows and rendered.

    `computed` names the fields that are not columns and the function that fills each for a
    page; `keys` are extra columns those functions read (the primary key, say). Every other
    readable field must have a dotted `source` of columns, or building the plan raises.
    """

    def __init__(
        self,
        serializer_class: type[Serializer],
        *,
        computed: dict[str, Computed] | None = None,
        keys: Sequence[str] = (),
    ) -> None:
        self.serializer_class = serializer_class
        self.computed = computed or {}
        self.keys = tuple(keys)

    @cached_property
    def _plan(self) -> list[tuple[str, str, Callable[[Any], Any] | None]]:
        # Built on first use (fields read settings and models), then kept: the fields' own
        # to_representation reads neither the serializer's context nor its instance.
        plan = []
        for name, field in self.serializer_class().fields.items():
            if field.write_only:
                continue
            if name in self.computed:
                plan.append((name, "", None))
                continue
            if isinstance(field, SerializerMethodField) or field.source == "*":
                raise TypeError(f"{self.serializer_class.__name__}.{name} is not a column: name it in `computed`.")
            plan.append((name, field.source.replace(".", "__"), field.to_representation))
        return plan

    def columns(self) -> list[str]:
        """Return the `.values()` lookups a page needs."""
        return [*self.keys, *(lookup for _name, lookup, _to in self._plan if lookup and lookup not in self.keys)]

    def narrow(self, queryset: QuerySet) -> Narrowed:
        """Return `queryset` to paginate: pages read only the columns (no instances, no
        prefetches), the count is the queryset's own."""
        return Narrowed(queryset, queryset.prefetch_related(None).values(*self.columns()))

    def render(self, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the serializer's representation of each row, as `many=True` data would be."""
        rows = list(rows)
        filled = {name: compute(rows) for name, compute in self.computed.items()} if rows else {}
        out = []
        for index, row in enumerate(rows):
            item = {}
            for name, lookup, to_representation in self._plan:
                if to_representation is None:
                    item[name] = filled[name][index]
                else:
                    value = row[lookup]
                    # As Serializer.to_representation: None stays None, whatever the field.
                    item[name] = None if value is None else to_representation(value)
            out.append(item)
        return out


class Narrowed:
    """What a paginator takes: `count()` from the full queryset, slices from the `.values()` one.

    A `.values()` count would keep the joins its columns need (a version's model, parent and
    registrant), which PostgreSQL then performs for every counted row; the queryset's own count
    (select_related drops out of it) reads the one table.
    """

    def __init__(self, queryset: QuerySet, rows: QuerySet) -> None:
        self.queryset, self.rows = queryset, rows

    @property
    def ordered(self) -> bool:
        return self.rows.ordered

    def count(self) -> int:
        return self.queryset.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: int | slice) -> Any:
        return self.rows[key]
