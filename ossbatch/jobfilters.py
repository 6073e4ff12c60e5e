"""--include/--exclude/--only-class/--modified-*/--min-size/--max-size/--key-regex -> the
job's object filter (handlers.events.ObjectFilter), checked before the job starts."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import ValidationError

from handlers.events import ObjectFilter
from ossbatch.cloud import ConfigError


def epoch(text: str | None, option: str) -> float | None:
    """ISO 8601 date or date-time (UTC unless it says otherwise) as epoch seconds."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(
            f"{option} {text!r} is not an ISO 8601 date or time (e.g. 2024-06-01 or "
            "2024-06-01T12:00:00+08:00)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def object_filter(
    *,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    only_class: list[str] | None = None,
    modified_after: str | None = None,
    modified_before: str | None = None,
    size_range: tuple[int | None, int | None] = (None, None),
    key_regex: str | None = None,
) -> dict | None:
    """The filter the handlers apply, or None when no option narrows the job."""
    spec = {
        "include": list(include or []),
        "exclude": list(exclude or []),
        "storage_classes": list(only_class) if only_class else None,
        "modified_after": epoch(modified_after, "--modified-after"),
        "modified_before": epoch(modified_before, "--modified-before"),
        "min_size": size_range[0],
        "max_size": size_range[1],
        "key_regex": key_regex,
    }
    if not any(v for v in spec.values()) and spec["min_size"] is None:
        return None
    try:
        return ObjectFilter.model_validate(spec).model_dump(exclude_defaults=True)
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(p) for p in problem["loc"]) or "filter"
        raise ConfigError(f"filter {field}: {problem['msg']}") from None
