"""A small evaluator for the formulas of the Excel simulator sheet (tests only).

It knows exactly what the sheet uses — numbers, strings, cell and range references
(with sheet names and $), + - * / and = < >, INDEX, MATCH (types 0 and 1), MIN, IF, EXP,
SUM, NA, ISNUMBER — with Excel's meaning, and fails loudly on anything else, so a formula
the workbook gains later cannot be evaluated wrongly in silence. A spreadsheet error
(#N/A, #REF!, #DIV/0!, #VALUE!) is a Python exception here: LookupError, ArithmeticError
or TypeError, which ISNUMBER turns into FALSE. This keeps test_excel.py light (openpyxl
only); test_excel_libreoffice.py checks the same workbook in LibreOffice.
"""

from __future__ import annotations

import math
import re
from typing import Any

from openpyxl.utils import column_index_from_string

TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
  | (?P<str>"[^"]*")
  | (?P<ref>(?:(?:'[^']+'|[A-Za-z_][\w.]*)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)
  | (?P<func>[A-Z][A-Z0-9.]*)\(
  | (?P<op>[-+*/=(),<>&^])
    )""",
    re.VERBOSE,
)
CELL = re.compile(r"\$?([A-Z]{1,3})\$?(\d+)")
SPREADSHEET_ERRORS = (LookupError, ArithmeticError, TypeError)


class Range:
    def __init__(self, sheet: str, r1: int, c1: int, r2: int, c2: int) -> None:
        self.sheet, self.r1, self.c1, self.r2, self.c2 = sheet, r1, c1, r2, c2


class Workbook:
    """Evaluate cells of an openpyxl workbook (loaded with formulas, not cached values)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, int, int], Any] = {}

    def value(self, sheet: str, row: int, col: int) -> Any:
        key = (sheet, row, col)
        if key not in self.cache:
            raw = self.wb[sheet].cell(row, col).value
            if isinstance(raw, str) and raw.startswith("="):
                self.cache[key] = _Parser(self, sheet, raw[1:]).run()
            else:
                self.cache[key] = raw
        return self.cache[key]

    def cell(self, sheet: str, ref: str) -> Any:
        m = CELL.fullmatch(ref)
        assert m is not None
        return self.value(sheet, int(m[2]), column_index_from_string(m[1]))


class _Parser:
    def __init__(
        self, book: Workbook, sheet: str, text: str, tokens: list[tuple[str, str]] | None = None
    ) -> None:
        self.book, self.sheet = book, sheet
        self.i = 0
        if tokens is not None:
            self.tokens = tokens
            return
        self.tokens = []
        pos = 0
        while pos < len(text):
            m = TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise ValueError(f"cannot read {text[pos:]!r} in {text!r}")
            kind = m.lastgroup
            self.tokens.append((kind, m[kind]))  # type: ignore[index]
            pos = m.end()
        self.i = 0

    def run(self) -> Any:
        value = self.compare()
        if self.i != len(self.tokens):
            raise ValueError(f"unparsed tokens {self.tokens[self.i :]}")
        return self.scalar(value)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str) -> None:
        tok = self.peek()
        if tok is None or tok[1] != value:
            raise ValueError(f"expected {value!r}, got {tok}")
        self.i += 1

    def scalar(self, v: Any) -> Any:
        if isinstance(v, Range):
            assert v.r1 == v.r2 and v.c1 == v.c2, "a range where a value is needed"
            return self.book.value(v.sheet, v.r1, v.c1)
        return v

    def compare(self) -> Any:
        left = self.additive()
        tok = self.peek()
        if tok is not None and tok[1] in "=<>":
            self.i += 1
            right = self.scalar(self.additive())
            left = self.scalar(left)
            if tok[1] == "=":
                if isinstance(left, str) and isinstance(right, str):
                    return left.lower() == right.lower()
                return left == right
            if isinstance(left, str) != isinstance(right, str):
                raise TypeError("the evaluator compares numbers with numbers only")
            return left > right if tok[1] == ">" else left < right
        return left

    def additive(self) -> Any:
        value = self.term()
        while (tok := self.peek()) is not None and tok[1] in "+-":
            self.i += 1
            right = self.scalar(self.term())
            value = self.scalar(value)
            value = value + right if tok[1] == "+" else value - right
        return value

    def term(self) -> Any:
        value = self.unary()
        while (tok := self.peek()) is not None and tok[1] in "*/":
            self.i += 1
            right = self.scalar(self.unary())
            value = self.scalar(value)
            if tok[1] == "/" and right == 0:
                raise ZeroDivisionError("#DIV/0!")
            value = value * right if tok[1] == "*" else value / right
        return value

    def unary(self) -> Any:
        tok = self.peek()
        if tok is not None and tok[1] == "-":
            self.i += 1
            return -self.scalar(self.unary())
        return self.atom()

    def atom(self) -> Any:
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1]
        if kind == "ref":
            sheet, _, cells = text.rpartition("!")
            sheet = sheet.strip("'") or self.sheet
            a, _, b = cells.partition(":")
            m1 = CELL.fullmatch(a)
            m2 = CELL.fullmatch(b or a)
            return Range(sheet, int(m1[2]), column_index_from_string(m1[1]),
                         int(m2[2]), column_index_from_string(m2[1]))  # fmt: skip
        if kind == "op" and text == "(":
            value = self.compare()
            self.take(")")
            return value
        if kind == "func":
            # Arguments are evaluated when the function asks for them, as a spreadsheet
            # does: IF(x > 1, NA(), …) must not raise #N/A when x <= 1.
            args = [self.thunk(tokens) for tokens in self.argument_tokens()]
            return self.call(text, args)
        raise ValueError(f"unexpected {text!r}")

    def argument_tokens(self) -> list[list[tuple[str, str]]]:
        """The tokens of each argument up to the closing parenthesis (consumed)."""
        arguments: list[list[tuple[str, str]]] = []
        current: list[tuple[str, str]] = []
        depth = 0
        while (tok := self.peek()) is not None:
            self.i += 1
            if depth == 0 and tok in (("op", ")"), ("op", ",")):
                if tok[1] == "," or current or arguments:
                    arguments.append(current)
                if tok[1] == ")":
                    return arguments
                current = []
                continue
            if tok[0] == "func" or tok == ("op", "("):
                depth += 1
            elif tok == ("op", ")"):
                depth -= 1
            current.append(tok)
        raise ValueError("a function's parenthesis is not closed")

    def thunk(self, tokens: list[tuple[str, str]]) -> Any:
        def evaluate() -> Any:
            parser = _Parser(self.book, self.sheet, "", tokens)
            value = parser.compare()
            if parser.i != len(tokens):
                raise ValueError(f"unparsed tokens {tokens[parser.i :]}")
            return value

        return evaluate

    def values(self, r: Range) -> list[Any]:
        return [self.book.value(r.sheet, i, j) for i in range(r.r1, r.r2 + 1)
                for j in range(r.c1, r.c2 + 1)]  # fmt: skip

    def call(self, name: str, thunks: list[Any]) -> Any:
        if name == "IF":
            return self.scalar(thunks[1]() if self.scalar(thunks[0]()) else thunks[2]())
        if name == "ISNUMBER":
            try:
                value = self.scalar(thunks[0]())
            except SPREADSHEET_ERRORS:
                return False
            return isinstance(value, int | float) and not isinstance(value, bool)
        args = [evaluate() for evaluate in thunks]
        if name == "EXP":
            return math.exp(self.scalar(args[0]))
        if name == "MIN":
            return min(self.scalar(a) for a in args)
        if name == "NA":
            raise LookupError("#N/A")
        if name == "SUM":
            total = 0.0
            for a in args:
                items = self.values(a) if isinstance(a, Range) else [a]
                total += sum(
                    v for v in items if isinstance(v, int | float) and not isinstance(v, bool)
                )
            return total
        if name == "INDEX":
            r = args[0]
            i = int(self.scalar(args[1]))
            j = int(self.scalar(args[2])) if len(args) > 2 else 1
            if len(args) == 2 and r.r1 == r.r2:  # a row vector: the index runs along it
                i, j = 1, i
            if not (1 <= i <= r.r2 - r.r1 + 1 and 1 <= j <= r.c2 - r.c1 + 1):
                raise IndexError(f"#REF! INDEX({i}, {j}) outside the range")
            return self.book.value(r.sheet, r.r1 + i - 1, r.c1 + j - 1)
        if name == "MATCH":
            x = self.scalar(args[0])
            items = self.values(args[1])
            kind = int(self.scalar(args[2])) if len(args) > 2 else 1
            if kind == 0:
                for k, v in enumerate(items, start=1):
                    if (isinstance(x, str) and isinstance(v, str) and x.lower() == v.lower()) or (
                        not isinstance(x, str) and not isinstance(v, str) and x == v
                    ):
                        return k
                raise LookupError(f"#N/A: {x!r} not in {items}")
            if kind == 1:
                found = [k for k, v in enumerate(items, start=1) if v <= x]
                if not found:
                    raise LookupError(f"#N/A: nothing <= {x!r}")
                return found[-1]
        raise ValueError(f"the evaluator does not know {name}")
