"""One paginator for every list endpoint: whitelisted filters and sort keys, bounded pages."""
from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import HTTPException


@dataclass
class Query:
    """Accumulates SQL conditions with numbered parameters."""

    conditions: list[str] = field(default_factory=list)
    params: list = field(default_factory=list)

    def where(self, sql: str, *values) -> "Query":
        # `sql` uses {} for each parameter, numbered here so callers never count.
        numbers = []
        for v in values:
            self.params.append(v)
            numbers.append(f"${len(self.params)}")
        self.conditions.append(sql.format(*numbers))
        return self

    def where_sql(self) -> str:
        return " where " + " and ".join(self.conditions) if self.conditions else ""


def order_by(sort: str | None, allowed: dict[str, str], default: str, tiebreak: str) -> str:
    """`sort` is a key of `allowed`, '-' prefixed for descending; anything else is a 422."""
    key = sort or default
    desc = key.startswith("-")
    column = allowed.get(key.lstrip("-"))
    if column is None:
        raise HTTPException(422, [{"field": "sort", "message": f"sort must be one of {', '.join(sorted(allowed))} (prefix - for descending)"}])
    return f" order by {column} {'desc' if desc else 'asc'}, {tiebreak}"


async def page(conn, select: str, count_from: str, q: Query, order: str, page_no: int, page_size: int) -> dict:
    total = await conn.fetchval(f"select count(*) {count_from}{q.where_sql()}", *q.params)
    rows = await conn.fetch(
        f"{select} {count_from}{q.where_sql()}{order} limit {int(page_size)} offset {int((page_no - 1) * page_size)}",
        *q.params,
    )
    return {"items": [dict(r) for r in rows], "total": total, "page": page_no, "page_size": page_size}
