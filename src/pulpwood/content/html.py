"""Directory listings in the shape Pulp's content app answers (spec pulpcore §5)."""

from __future__ import annotations

import datetime as dt
from html import escape
from urllib.parse import quote

from pulpwood.content.lookup import ListingEntry

DATE_COLUMN = 100
UNITS = ("kB", "MB", "GB", "TB", "PB")


def human_size(size: int) -> str:
    """Decimal units as Pulp shows them: `307 Bytes`, `1.0 kB`, `4.2 MB`."""
    if size < 1000:
        return f"{size} Bytes"
    value = float(size)
    for unit in UNITS:
        value /= 1000
        if value < 1000 or unit == UNITS[-1]:
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


def listing_date(when: dt.datetime | None) -> str:
    return when.astimezone(dt.UTC).strftime("%d-%b-%Y %H:%M") if when else ""


def render_listing(path: str, entries: list[ListingEntry], *, parent_link: bool) -> bytes:
    title = escape(path)
    lines = [f'<html><head><title>Index of {title}</title></head><body bgcolor="white">'
             f'<h1>Index of {title}</h1><hr><pre>']
    if parent_link:
        lines[0] += '<a href="../">../</a>'
    for entry in entries:
        anchor = f'<a href="./{quote(entry.name)}">{escape(entry.name)}</a>'
        padding = " " * max(1, DATE_COLUMN - len(anchor))
        size = "" if entry.size is None or entry.name.endswith("/") else "  " + human_size(entry.size)
        lines.append(f"{anchor}{padding}{listing_date(entry.date)}{size}".rstrip())
    body = "\n".join(lines) + ("\n" if len(lines) > 1 or parent_link else "")
    return (body + "</pre><hr></body></html>\n").encode("utf-8")
