"""What every governance endpoint shares: authentication, throttles, pagination, receipts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from api.pagination import Pagination
from api.receipts import receipt
from api.renderers import LIST_RENDERERS
from api.rows import Rows
from governance import access
from governance.errors import InvalidInput


def written(request: Request, data: dict, key: str, code: int = status.HTTP_201_CREATED) -> Response:
    """Answer a write: the written record's `data` with the receipt of the event `key` names
    (the `ledger_key` a write service returned; views never rebuild it)."""
    return Response({**data, "receipt": receipt(request, key)}, status=code)


def parse_batch(
    item_serializer: type[Serializer],
    items: list[Any],
    *,
    refused: str,
    tidy: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> list[dict[str, Any]]:
    """Validate every item of a batch; return the clean items, each passed through `tidy`.

    All or nothing: any invalid item refuses the batch with InvalidInput (`refused` as the
    message, the errors keyed by item index). One list serializer builds its fields once for the
    whole batch, not once per item.
    """
    serializer = item_serializer(data=items, many=True)
    if not serializer.is_valid():
        # DRF reports per-item errors as a list, or (3.18+) as {index: errors}.
        found = serializer.errors
        pairs = found.items() if isinstance(found, dict) else enumerate(found)
        raise InvalidInput(refused, errors={str(index): item for index, item in pairs if item})
    return [tidy(dict(data)) for data in serializer.validated_data]


class WriteThrottle(ScopedRateThrottle):
    """Throttle writes only; reads are limited by pagination instead."""

    def allow_request(self, request: Request, view: APIView) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class GovernanceView(APIView):
    throttle_classes = [WriteThrottle]
    throttle_scope = "write"
    filterset_class = None
    # Whether POST takes `?wait=none` (answer once committed, before sequencing).
    accepts_wait_none = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            from api.receipts import wait_mode

            # Refuse a malformed ?wait= before anything is written.
            wait_mode(request, allow_none=self.accepts_wait_none)

    def authorize(self, action: str, obj: Any = None) -> Any:
        """Refuse (404 or 403, from governance.access) unless the caller may do `action` on
        `obj`; return `obj`. Write views call it before they read the body, so a refused caller
        learns nothing about the body's rules."""
        access.require(self.request.user, action, obj)
        return obj

    def parse(self, serializer_class: type[Serializer], data: Any | None = None) -> dict[str, Any]:
        """Validate the request body (or `data`) and return the clean values; 400 otherwise."""
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def paginate(self, queryset: QuerySet, serializer_class: type[Serializer], rows: Rows | None = None) -> Response:
        """Answer one page of `queryset` as `serializer_class` renders it, with the count and links.

        With `rows` (api.rows), the page is read as `.values()` rows and rendered by the
        serializer's own fields: the same answer without building model instances.
        """
        if self.filterset_class is not None:
            filterset = self.filterset_class(self.request.query_params, queryset=queryset, request=self.request)
            if not filterset.is_valid():
                from api.errors import bad_request

                first = next(iter(filterset.errors.items()))
                raise bad_request(f"{first[0]}: {first[1][0]}", field=first[0])
            queryset = filterset.qs
        paginator = Pagination()
        if rows is not None:
            page = paginator.paginate_queryset(rows.narrow(queryset), self.request, view=self)
            data = rows.render(page)
        else:
            page = paginator.paginate_queryset(queryset, self.request, view=self)
            data = serializer_class(page, many=True).data
        response = paginator.get_paginated_response(data)
        if (
            getattr(self.request, "accepted_renderer", None) is not None
            and self.request.accepted_renderer.format == "csv"
        ):
            # A CSV body has no room for the paging links: they travel as headers (RFC 8288).
            response["X-Total-Count"] = str(paginator.page.paginator.count)
            links = [
                f'<{url}>; rel="{rel}"'
                for rel, url in (("next", paginator.get_next_link()), ("prev", paginator.get_previous_link()))
                if url
            ]
            if links:
                response["Link"] = ", ".join(links)
        return response


class GovernanceListView(GovernanceView):
    """A list endpoint: paginated, and also answered as CSV (`?format=csv`, api.renderers)."""

    renderer_classes = LIST_RENDERERS
    # So the schema describes the paginated answer ({count, next, previous, results}) and the
    # `page` and `page_size` parameters, not a bare array.
    pagination_class = Pagination
