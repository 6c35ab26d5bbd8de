"""DMS transformation-rule expressions (SQLite syntax, ``$COLUMN`` for a source column) as PostgreSQL SQL text.

The sandbox carries out the part of DMS's expression language that has the same meaning in PostgreSQL: column
references (``$name``), string and number literals, ``||`` concatenation, arithmetic, comparisons, ``AND``/``OR``/
``NOT``, ``IS [NOT] NULL``, ``CASE ... END`` and a list of SQLite functions with a PostgreSQL twin. Anything else
(header columns such as ``$AR_H_OPERATION``, SQLite functions without a twin, ``datetime()``) raises
:class:`ExpressionUnsupported` naming the feature, so the task check lists it and the sandbox refuses it by name.

``||`` in SQLite turns both sides into text; in PostgreSQL two numbers cannot be concatenated. The translation
therefore casts every column reference that is an operand of ``||`` to text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# SQLite function → PostgreSQL function with the same meaning for the arguments DMS passes.
FUNCTIONS = {
    "upper": "upper",
    "lower": "lower",
    "trim": "btrim",
    "ltrim": "ltrim",
    "rtrim": "rtrim",
    "length": "length",
    "replace": "replace",
    "substr": "substr",
    "abs": "abs",
    "round": "round",
    "coalesce": "coalesce",
    "ifnull": "coalesce",
    "nullif": "nullif",
}
KEYWORDS = {"and", "or", "not", "is", "null", "case", "when", "then", "else", "end", "like", "in"}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<column>\$[A-Za-z_][A-Za-z0-9_]*)
      | (?P<string>'(?:[^']|'')*')
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>\|\||<>|!=|<=|>=|==|[-+*/%(),=<>])
    )""",
    re.X,
)


@dataclass
class ExpressionUnsupported(Exception):
    """The expression uses something the sandbox cannot evaluate (``feature`` names it)."""

    feature: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Translation:
    sql: str  # PostgreSQL expression text; column references are quoted identifiers
    columns: tuple[str, ...]  # the source columns it reads


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def translate(expression: str) -> Translation:
    """The PostgreSQL form of a DMS expression, or ExpressionUnsupported."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = expression.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionUnsupported(
                f"syntax at {text[pos : pos + 10]!r}", f"the sandbox cannot read {text[pos:]!r} in the expression"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    out: list[str] = []
    columns: list[str] = []
    for i, (kind, value) in enumerate(tokens):
        next_is_paren = i + 1 < len(tokens) and tokens[i + 1] == ("op", "(")
        if kind == "column":
            name = value[1:]
            if name.upper().startswith("AR_"):
                raise ExpressionUnsupported(
                    f"header {value}", f"{value} is a DMS header column; the sandbox has no change headers"
                )
            columns.append(name)
            concat = (i > 0 and tokens[i - 1] == ("op", "||")) or (
                i + 1 < len(tokens) and tokens[i + 1] == ("op", "||")
            )
            out.append(_quote(name) + ("::text" if concat else ""))
        elif kind == "string" or kind == "number":
            out.append(value)
        elif kind == "word":
            lower = value.lower()
            if next_is_paren:
                if lower not in FUNCTIONS:
                    raise ExpressionUnsupported(
                        f"function {lower}()", f"the SQLite function {lower}() has no PostgreSQL twin in the sandbox"
                    )
                out.append(FUNCTIONS[lower])
            elif lower in KEYWORDS:
                out.append(lower.upper())
            else:
                raise ExpressionUnsupported(
                    f"name {value}", f"{value!r} is neither a $column nor a keyword; write source columns as ${value}"
                )
        else:
            out.append({"==": "=", "!=": "<>"}.get(value, value))
    if not tokens:
        raise ExpressionUnsupported("empty expression", "the expression is empty")
    return Translation(" ".join(out), tuple(dict.fromkeys(columns)))
