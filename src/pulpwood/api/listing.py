"""Lists: filters, ordering, limit/offset pagination and field trimming, as Pulp does them.

A list endpoint declares a FilterSet (filter name -> function building a WHERE clause from
the raw query value) and the columns it may be ordered by; anything else in the query
string is refused with Pulp's `Invalid Filter` error.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, and_, false, func, not_, or_, select
from starlette.requests import Request

from pulpwood import hrefs
from pulpwood.api.responses import JSONResponse
from pulpwood.errors import ValidationError

ClauseFactory = Callable[[str], Any]
ALWAYS_ALLOWED = {"limit", "offset", "ordering", "fields", "exclude_fields", "minimal", "page_size", "format"}
DEFAULT_LIMIT = 100


def invalid(message: str) -> ValidationError:
    return ValidationError({"errors": [message]})


class FilterSet:
    def __init__(self, filters: dict[str, ClauseFactory], ordering: dict[str, Any], default_order: Iterable[Any]) -> None:
        self.filters = filters
        self.ordering = ordering
        self.default_order = list(default_order)

    def extended(self, filters: dict[str, ClauseFactory] | None = None, ordering: dict[str, Any] | None = None) -> FilterSet:
        return FilterSet({**self.filters, **(filters or {})}, {**self.ordering, **(ordering or {})}, self.default_order)

    def apply(self, stmt: Select, request: Request) -> Select:
        params = request.query_params
        for key in params.keys():
            if key in ALWAYS_ALLOWED:
                continue
            factory = self.filters.get(key)
            if factory is None:
                raise invalid(f"Invalid Filter: '{key}'")
            for value in params.getlist(key):
                stmt = stmt.where(factory(value))
        order = []
        for raw in _split(params.getlist("ordering")):
            column = self.ordering.get(raw.lstrip("-"))
            if column is None:
                raise ValidationError({"ordering": [f"Select a valid choice. {raw} is not one of the available choices."]})
            order.append(column.desc() if raw.startswith("-") else column.asc())
        return stmt.order_by(*order, *self.default_order)


def _split(values: list[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


# -- lookups -----------------------------------------------------------------------------

def text_lookups(name: str, column) -> dict[str, ClauseFactory]:
    return {
        name: lambda v: column == v,
        f"{name}__iexact": lambda v: func.lower(column) == v.lower(),
        f"{name}__in": lambda v: column.in_(_split([v])),
        f"{name}__contains": lambda v: column.contains(v, autoescape=True),
        f"{name}__icontains": lambda v: func.lower(column).contains(v.lower(), autoescape=True),
        f"{name}__startswith": lambda v: column.startswith(v, autoescape=True),
        f"{name}__istartswith": lambda v: func.lower(column).startswith(v.lower(), autoescape=True),
        f"{name}__ne": lambda v: column != v,
    }


def parse_datetime(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"Enter a valid date/time for '{name}'.") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def datetime_lookups(name: str, column) -> dict[str, ClauseFactory]:
    def rng(v: str):
        parts = v.split(",")
        if len(parts) != 2:
            raise invalid(f"'{name}__range' takes two comma-separated values.")
        return column.between(parse_datetime(parts[0], name), parse_datetime(parts[1], name))

    return {
        name: lambda v: column == parse_datetime(v, name),
        f"{name}__lt": lambda v: column < parse_datetime(v, name),
        f"{name}__lte": lambda v: column <= parse_datetime(v, name),
        f"{name}__gt": lambda v: column > parse_datetime(v, name),
        f"{name}__gte": lambda v: column >= parse_datetime(v, name),
        f"{name}__range": rng,
        f"{name}__isnull": lambda v: column.is_(None) if v.lower() in ("true", "1") else column.is_not(None),
    }


def int_lookups(name: str, column) -> dict[str, ClauseFactory]:
    def num(v: str) -> int:
        try:
            return int(v)
        except ValueError:
            raise ValidationError({name: ["Enter a number."]}) from None

    return {
        name: lambda v: column == num(v),
        f"{name}__gt": lambda v: column > num(v),
        f"{name}__gte": lambda v: column >= num(v),
        f"{name}__lt": lambda v: column < num(v),
        f"{name}__lte": lambda v: column <= num(v),
        f"{name}__ne": lambda v: column != num(v),
        f"{name}__in": lambda v: column.in_([num(p) for p in _split([v])]),
        f"{name}__range": lambda v: column.between(*[num(p) for p in _split([v])][:2]),
    }


def bool_lookup(column) -> ClauseFactory:
    return lambda v: column.is_(v.lower() in ("true", "1", "yes"))


def href_in(model) -> dict[str, ClauseFactory]:
    """`pulp_href__in`, `prn__in` and `pulp_id__in` for a model keyed by pulp_id."""

    def ids(v: str) -> list:
        found = []
        for item in _split([v]):
            resolved = hrefs.resolve(item)
            if resolved is None:
                raise ValidationError({"pulp_href__in": [f"URI not valid: {item}"]})
            found.append(resolved.pulp_id)
        return found

    def uuids(v: str) -> list:
        import uuid

        try:
            return [uuid.UUID(p) for p in _split([v])]
        except ValueError:
            raise ValidationError({"pulp_id__in": ["Enter a valid UUID."]}) from None

    return {
        "pulp_href__in": lambda v: model.pulp_id.in_(ids(v)),
        "prn__in": lambda v: model.pulp_id.in_(ids(v)),
        "pulp_id__in": lambda v: model.pulp_id.in_(uuids(v)),
    }


_LABEL_TERM = re.compile(r"^(?P<neg>!)?(?P<key>[\w .-]+)(?:(?P<op>=|!=|~)(?P<value>.*))?$")


def label_select(column) -> ClauseFactory:
    """Pulp's `pulp_label_select` grammar over a JSON labels column."""

    def build(raw: str) -> Any:
        if not raw:
            raise invalid("Invalid label search")
        terms = [t.replace("\\,", ",").strip() for t in re.split(r"(?<!\\),", raw)]
        clauses = []
        for term in terms:
            match = _LABEL_TERM.match(term)
            if not match:
                raise invalid(f"Invalid label search term '{term}'")
            key, op, value = match["key"].strip(), match["op"], match["value"]
            field = column[key].as_string()
            if match["neg"]:
                if op:
                    raise invalid("Cannot use an operator with '!'.")
                clauses.append(field.is_(None))
            elif op is None:
                clauses.append(field.is_not(None))
            elif op == "=":
                clauses.append(field == value)
            elif op == "!=":
                clauses.append(and_(field.is_not(None), field != value))
            else:
                clauses.append(func.lower(field).contains(value.lower(), autoescape=True))
        return and_(*clauses)

    return build


def fk_filter(name: str, column, model) -> ClauseFactory:
    """Filter on a foreign key given as href or PRN; "null"/"" means unset."""

    def build(v: str):
        if v in ("", "null"):
            return column.is_(None)
        resolved = hrefs.resolve(v)
        if resolved is None or not issubclass(resolved.model, model):
            raise ValidationError({name: [f"URI {v} not found for {model.__name__}."]})
        return column == resolved.pulp_id

    return build


def never() -> Any:
    return false()


def negate(clause) -> Any:
    return not_(clause)


def any_of(*clauses) -> Any:
    return or_(*clauses)


# -- pagination ----------------------------------------------------------------------------

def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: ["A valid integer is required."]}) from None
    # Databases take 64-bit LIMIT/OFFSET at most; beyond that every page is the same anyway.
    return min(max(value, 0), 2**62)


def _page_url(request: Request, offset: int | None) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    if offset:
        params.append(("offset", str(offset)))
    query = urlencode(params)
    return str(request.url.replace(query=query)) if query else str(request.url.replace(query=""))


def trim_fields(item: dict, request: Request) -> dict:
    fields = _split(request.query_params.getlist("fields"))
    exclude = _split(request.query_params.getlist("exclude_fields"))
    if fields:
        item = {k: v for k, v in item.items() if k in fields}
    if exclude:
        item = {k: v for k, v in item.items() if k not in exclude}
    return item


async def paginate(
    session,
    request: Request,
    stmt: Select,
    serialize_many: Callable[[Any, list], Awaitable[list[dict]]],
) -> JSONResponse:
    limit = _int_param(request, "limit", _int_param(request, "page_size", DEFAULT_LIMIT)) or DEFAULT_LIMIT
    offset = _int_param(request, "offset", 0)
    count = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = list((await session.scalars(stmt.limit(limit).offset(offset))).unique())
    results = [trim_fields(item, request) for item in await serialize_many(session, rows)]
    next_url = _page_url(request, offset + limit) if offset + limit < count else None
    previous = None
    if offset > 0:
        previous = _page_url(request, max(offset - limit, 0))
    return JSONResponse({"count": count, "next": next_url, "previous": previous, "results": results})
