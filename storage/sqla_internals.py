"""What storage relies on inside SQLAlchemy that is not its public API, in one place.

The driver fast path (`storage/driver.py`) sends what Core would send, at a fraction of its
cost, by reading what Core worked out for a statement: its compiled form, how an expanding
parameter expands, and each type's bind and result processors. None of that is public API,
and SQLAlchemy may change it in any release. So every such reliance is one function here,
whose docstring says what is assumed; `tests/test_sqla_internals.py` checks each one against
the installed SQLAlchemy (`INTERNALS` lists them, and that test fails for a name it does not
check), and pyproject.toml pins SQLAlchemy to the range those checks passed on. An upgrade
that changes any of them then fails a test instead of the live path.

Public API (`Connection.connection.driver_connection`, `Engine.raw_connection`,
`TypeDecorator.process_result_value`, a `BindParameter`'s `key`, `value`, `type`,
`expanding` and `callable`) is used directly and not listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DBAPIError

# Every function below; the test module has one `test_<name>` for each.
INTERNALS = ("bind_processor", "bind_processors", "result_processor", "json_serializer",
             "result_columns", "prefetched", "positional_binds", "expanding_binds",
             "compiled_bind", "expand", "watched", "dbapi_error")


def bind_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What Core applies to a value of this type before the driver gets it (None: the value
    goes as it is), as Core's own execution uses it (cached per dialect on the type)."""
    return type_._cached_bind_processor(dialect)  # type: ignore[no-any-return]


def bind_processors(types: Iterable[Any], dialect: Dialect
                    ) -> list[Callable[[Any], Any] | None]:
    """`bind_processor` of each type, in one call (a write's columns, per statement)."""
    return [type_._cached_bind_processor(dialect) for type_ in types]


def result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """What Core applies to a value of this type the driver returned (None: nothing)."""
    return type_._cached_result_processor(dialect, None)  # type: ignore[no-any-return]


def json_serializer(dialect: Dialect) -> Callable[[Any], str]:
    """The engine's `json_serializer` (create_engine's argument), which the JSON type's bind
    processor calls to make the stored text."""
    return dialect._json_serializer  # type: ignore[attr-defined,no-any-return]


def result_columns(compiled: Any) -> list[tuple[str, Any]]:
    """(name, type) of each column a compiled SELECT or RETURNING gives, in row order: the
    names Core's rows carry and the types whose result processors it applies."""
    return [(entry.keyname, entry.type) for entry in compiled._result_columns]


def prefetched(compiled: Any) -> bool:
    """Whether a compiled INSERT/UPDATE has columns whose defaults Core computes in Python
    for each execution (then only Core's execution gives the right values)."""
    return bool(compiled.insert_prefetch or compiled.update_prefetch)


def positional_binds(compiled: Any) -> list[Any]:
    """The BindParameters of a compiled statement in the order of its positional (qmark)
    placeholders; one appears twice where its value is used twice."""
    return [compiled.binds[name] for name in compiled.positiontup]


def expanding_binds(compiled: Any) -> tuple[Any, ...]:
    """The expanding BindParameters (`IN` lists) of a compiled statement."""
    return tuple(b for b in compiled.binds.values() if b.expanding)


def compiled_bind(compiled: Any, name: str) -> Any:
    """The BindParameter behind a placeholder name of the compiled statement, if any."""
    return compiled.binds.get(name)


class Expansion(NamedTuple):
    """A compiled statement rendered for given values, as Core renders it before running it.

    `names`: the placeholder names in positional order; `values` and `processors` by name
    (the bind processor of an expanded list's values); `expanded`: for each expanding
    BindParameter of the statement, the names its values were given, in order."""

    sql: str
    names: list[str]
    values: Mapping[str, Any]
    processors: Mapping[str, Any]
    expanded: dict[Any, list[str]]


def expand(compiled: Any, params: Mapping[str, Any]) -> Expansion | None:
    """Core's own rendering of `compiled` for `params` (lists of expanding parameters
    written out one placeholder per value); None unless it is positional, which this
    storage's SQLite statements always are."""
    state = compiled.construct_expanded_state(dict(params))
    if not compiled.positional or state.positiontup is None:
        return None
    expanded = {bind: state.parameter_expansion.get(compiled.bind_names[bind], [])
                for bind in expanding_binds(compiled)}
    return Expansion(state.statement, list(state.positiontup), state.parameters,
                     state.processors, expanded)


def watched(engine: Engine) -> bool:
    """True when someone observes this engine's statements: `echo`, or a
    `before_cursor_execute` / `after_cursor_execute` listener (each event's listener list
    on `engine.dispatch` is truthy once one is registered)."""
    dispatch = engine.dispatch
    return bool(engine.echo or dispatch.before_cursor_execute or dispatch.after_cursor_execute)


def dbapi_error(sql: str, params: Any, exc: Exception, dbapi_base: type[Exception]
                ) -> DBAPIError:
    """The SQLAlchemy exception Core raises for a driver error (`IntegrityError` for
    sqlite3's, and so on), which callers catch."""
    return DBAPIError.instance(sql, params, exc, dbapi_base)
