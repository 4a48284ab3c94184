"""The one YAML reader for every file a user gives offerlab: bounded, YAML 1.2, with lines.

Study, population, market, scenario and model spec files, from the command line or
uploaded in the console, are all read here; nothing else in offerlab calls a YAML
parser. Each file is treated as hostile until read:

* its size is capped (:attr:`YamlLimits.max_bytes`) before it is parsed;
* while the node tree is composed -- before anything is expanded into Python
  objects -- nesting depth, key and text lengths and the number of values are
  counted. An alias (``*name``) counts as everything its anchor holds, so a
  "billion laughs" file of a few hundred bytes is refused at the alias that would
  blow it up, in microseconds, instead of expanding into gigabytes;
* booleans follow YAML 1.2: only ``true`` and ``false``; ``yes``, ``no``, ``on`` and
  ``off`` stay text (a level may be called ``yes``);
* duplicate keys are reported (YAML would keep the last one silently), and every
  key and value keeps its line and column for the messages of later checks.

Every problem is raised as a :class:`~offerlab.exceptions.StudyError` (or a subclass
such as :class:`~offerlab.exceptions.SpecError`) naming the file, the line and, where
known, the field; the command line turns it into exit code 2, the console into a
422 page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from offerlab.exceptions import StudyError, StudyProblem
from offerlab.study._checks import FieldPath, field_path

__all__ = ["YAML_LIMITS", "YamlDocument", "YamlLimits", "load_yaml", "parse_yaml", "read_text"]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass(frozen=True)
class YamlLimits:
    """How much a YAML file may hold. The defaults are far above any real offerlab file.

    Attributes
    ----------
    max_bytes : int
        Size of the text, in UTF-8 bytes.
    max_depth : int
        Lists and mappings inside each other, aliases followed.
    max_values : int
        Keys, values and list items, every alias counted as what its anchor holds.
    max_text : int
        Characters of one value.
    max_key : int
        Characters of one key.
    """

    max_bytes: int = 1024 * 1024
    max_depth: int = 32
    max_values: int = 50_000
    max_text: int = 64 * 1024
    max_key: int = 256


YAML_LIMITS = YamlLimits()


@dataclass
class YamlDocument:
    """A YAML document as Python objects, with the position of every key and value.

    Attributes
    ----------
    data : Any
        The document (``None`` for an empty file).
    key_marks, value_marks : dict
        Field path (a tuple of keys and list indices) → where its key / value starts.
    problems : list of StudyProblem
        Problems that did not stop the reading (duplicate keys).
    root : type of pydantic.BaseModel, optional
        The model the document is meant for, when the caller knows it (for hints).
    """

    data: Any
    key_marks: dict[FieldPath, yaml.Mark] = field(default_factory=dict)
    value_marks: dict[FieldPath, yaml.Mark] = field(default_factory=dict)
    problems: list[StudyProblem] = field(default_factory=list)
    root: type[BaseModel] | None = None

    def locate(self, path: FieldPath) -> tuple[int | None, int | None]:
        """(line, column), 1-based, of a field or of its nearest enclosing field in the file."""
        for end in range(len(path), -1, -1):
            mark = self.key_marks.get(path[:end]) or self.value_marks.get(path[:end])
            if mark is not None:
                return mark.line + 1, mark.column + 1
        return None, None

    def problem(self, path: FieldPath, message: str) -> StudyProblem:
        """A problem about the field at ``path``, placed at its line."""
        line, column = self.locate(path)
        return StudyProblem(message, field_path(path), line, column)


def parse_yaml(
    text: str,
    path: Path | str | None = None,
    error: type[StudyError] = StudyError,
    limits: YamlLimits = YAML_LIMITS,
) -> YamlDocument:
    """Read YAML text within ``limits`` into a :class:`YamlDocument`.

    Parameters
    ----------
    text : str
        The YAML text (an upload, a form field, a file's content).
    path : path-like, optional
        Where the text comes from; only used to name it in messages.
    error : type of StudyError, default StudyError
        The error raised, e.g. :class:`~offerlab.exceptions.SpecError`.
    limits : YamlLimits, optional
        Size, depth, value-count and length caps.

    Raises
    ------
    StudyError
        (or ``error``) for a syntax error, a character YAML forbids, an unsupported
        tag, a key that is a list, or a limit exceeded; the message names the line,
        the column and, where known, the field.
    """
    size = len(text) if len(text) > limits.max_bytes else len(text.encode("utf-8"))
    if size > limits.max_bytes:
        raise error([StudyProblem(_too_big(size, limits))], path)
    fast = _read_fast(text, limits)
    if fast is not None:
        return fast
    doc = YamlDocument(data=None)
    loader: _Loader | None = None
    try:
        loader = _Loader(text, limits)  # checks every character of the text
        node = loader.get_single_node()
        if node is not None:
            doc.data = _Builder(loader, doc).build(node, ())
    except _LimitExceeded as exc:
        mark = exc.problem_mark
        problem = StudyProblem(exc.problem or "", exc.field, mark.line + 1, mark.column + 1)
        raise error([problem], path) from None
    except yaml.MarkedYAMLError as exc:
        raise error([_yaml_problem(exc)], path) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[0])
        message = f"the character U+{code:04X} is not allowed in a YAML file"
        raise error([StudyProblem(message, "", line, column)], path) from None
    except yaml.YAMLError as exc:  # pragma: no cover - PyYAML raises the two above
        raise error([StudyProblem(f"invalid YAML: {exc}")], path) from None
    finally:
        if loader is not None:
            loader.dispose()
    return doc


def _read_fast(text: str, limits: YamlLimits) -> YamlDocument | None:
    """The document read from libyaml's parser events, or None for the reference reader.

    libyaml's scanner and parser (C) are ten times faster than PyYAML's (Python), which
    made reading a study most of what ``offerlab check`` spent beyond start-up. The node
    tree is composed by the same limit-counting composer and built by the same builder,
    so a valid document comes out the same. Anything unusual -- a syntax error, a limit
    exceeded, a character outside YAML's printable set, a line break PyYAML and libyaml
    may count differently -- returns None: the reference reader then reads the text
    again and reports the problem in its own words, at its own line.
    """
    if _FastLoader is None or _UNUSUAL_TEXT.search(text):
        return None
    doc = YamlDocument(data=None)
    loader = _FastLoader(text, limits)  # type: ignore[call-arg]
    try:
        node = loader.get_single_node()
        if node is not None:
            doc.data = _Builder(loader, doc).build(node, ())
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return doc


def load_yaml(
    path: Path | str, error: type[StudyError] = StudyError, limits: YamlLimits = YAML_LIMITS
) -> YamlDocument:
    """:func:`parse_yaml` on a file (UTF-8; a byte order mark is dropped)."""
    return parse_yaml(read_text(path, error, limits), path, error, limits)


def read_text(
    path: Path | str, error: type[StudyError] = StudyError, limits: YamlLimits = YAML_LIMITS
) -> str:
    """The text of a UTF-8 file of at most ``limits.max_bytes``, or ``error`` saying why not."""
    file = Path(path)
    try:
        with file.open("rb") as stream:
            raw = stream.read(limits.max_bytes + 1)  # never more than the cap into memory
    except FileNotFoundError:
        raise error([StudyProblem(_missing_file_message(file))], path) from None
    except IsADirectoryError:
        raise error([StudyProblem("this is a folder, not a file")], path) from None
    except PermissionError:
        raise error([StudyProblem("cannot read the file: permission denied")], path) from None
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        raise error([StudyProblem(message)], path) from None
    if len(raw) > limits.max_bytes:
        try:
            size = file.stat().st_size
        except OSError:  # pragma: no cover - it was just read
            size = len(raw)
        raise error([StudyProblem(_too_big(max(size, len(raw)), limits))], path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = (
            f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x} here cannot be read): "
            "save it as UTF-8"
        )
        raise error([StudyProblem(message, "", line, column)], path) from None
    return text


def _too_big(size: int, limits: YamlLimits) -> str:
    return (
        f"the file is {_kib(size)} long; offerlab reads YAML files of at most "
        f"{_kib(limits.max_bytes)}"
    )


def _kib(size: int) -> str:
    return f"{size} bytes" if size < 1024 else f"{size / 1024:,.0f} KiB"


def _missing_file_message(file: Path) -> str:
    for suffix in (".yaml", ".yml"):
        if not file.suffix and file.with_suffix(suffix).is_file():
            return f"file not found (did you mean {file.with_suffix(suffix)}?)"
    return "file not found"


# -- composing within limits --------------------------------------------------------------


class _LimitExceeded(yaml.MarkedYAMLError):
    """A limit of :class:`YamlLimits` exceeded while composing; the message is final."""

    def __init__(self, message: str, mark: yaml.Mark, field: str) -> None:
        super().__init__(problem=message, problem_mark=mark)
        self.field = field


class _LimitedComposer(yaml.composer.Composer):
    """A composer within :class:`YamlLimits`, whichever parser gives it events.

    Every limit is checked on the parser's events, before the node they describe
    exists; an alias is charged the size and depth of what it refers to, which
    are known once its anchor's node is composed.
    """

    limits: YamlLimits

    def _start_counting(self, limits: YamlLimits) -> None:
        self.limits = limits
        self.depth = 0
        self.values = 0
        self.trail: list[str | int] = []
        self.sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, height)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        is_key = isinstance(parent, yaml.MappingNode) and index is None
        step = index if isinstance(index, int) else getattr(index, "value", "?")
        self.trail.append(step if parent is not None and not is_key else "")
        try:
            if isinstance(event, yaml.AliasEvent):
                self._check_alias(event)
                return super().compose_node(parent, index)
            return self._compose_counted(event, parent, index, is_key)
        finally:
            self.trail.pop()

    def _compose_counted(
        self, event: yaml.Event, parent: yaml.Node | None, index: Any, is_key: bool
    ) -> yaml.Node:
        if self.depth >= self.limits.max_depth:
            self._refuse(
                f"lists and mappings nest more than {self.limits.max_depth} levels deep here",
                event.start_mark,
            )
        if isinstance(event, yaml.ScalarEvent):
            cap, what = (self.limits.max_key, "key") if is_key else (self.limits.max_text, "value")
            if len(event.value) > cap:
                self._refuse(
                    f"a {what} of {len(event.value):,} characters; at most {cap:,} are allowed",
                    event.start_mark,
                )
        self._charge(1, event.start_mark)
        before = self.values
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        self.sizes[id(node)] = (self.values - before + 1, 1 + self._child_height(node))
        return node

    def _child_height(self, node: yaml.Node) -> int:
        if isinstance(node, yaml.ScalarNode):
            return 0
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = list(node.value)
        return max((self.sizes.get(id(c), (0, 0))[1] for c in children), default=0)

    def _check_alias(self, event: yaml.AliasEvent) -> None:
        node = self.anchors.get(event.anchor)
        if node is None:
            return  # PyYAML reports the undefined alias
        size = self.sizes.get(id(node))
        if size is None:
            self._refuse("an alias refers to a value that contains it", event.start_mark)
        values, height = size  # type: ignore[misc]
        if self.depth + height > self.limits.max_depth:
            self._refuse(
                f"the alias *{event.anchor} makes lists and mappings nest more than "
                f"{self.limits.max_depth} levels deep",
                event.start_mark,
            )
        self._charge(values, event.start_mark, event.anchor)

    def _charge(self, values: int, mark: yaml.Mark, alias: str | None = None) -> None:
        self.values += values
        if self.values <= self.limits.max_values:
            return
        if alias is None:
            message = f"the file holds more than {self.limits.max_values:,} values"
        else:
            message = (
                f"the alias *{alias} repeats {values:,} values: with it the file would hold "
                f"more than {self.limits.max_values:,} once aliases are expanded; write the "
                "values out, or use fewer aliases"
            )
        self._refuse(message, mark)

    def _refuse(self, message: str, mark: yaml.Mark) -> None:
        steps = tuple(p for p in self.trail if p != "")
        where = field_path(steps[:6]) + ("…" if len(steps) > 6 else "")  # deep paths: the start
        raise _LimitExceeded(message, mark, where)


class _Loader(_LimitedComposer, yaml.SafeLoader):
    """The reference reader: PyYAML's own scanner and parser, YAML 1.2 booleans, limits."""

    def __init__(self, text: str, limits: YamlLimits) -> None:
        yaml.SafeLoader.__init__(self, text)
        self._start_counting(limits)

    # The scanner reads ahead through '[[[[…' looking for a ':' that would make it a key,
    # in time quadratic in the nesting: it is stopped at the limit, before the composer.
    def fetch_flow_sequence_start(self) -> None:
        self._check_scanner_depth(self.flow_level)
        super().fetch_flow_sequence_start()

    def fetch_flow_mapping_start(self) -> None:
        self._check_scanner_depth(self.flow_level)
        super().fetch_flow_mapping_start()

    def add_indent(self, column: int) -> bool:
        self._check_scanner_depth(len(self.indents))
        return super().add_indent(column)

    def _check_scanner_depth(self, depth: int) -> None:
        if depth >= self.limits.max_depth:
            message = f"lists and mappings nest more than {self.limits.max_depth} levels deep here"
            raise _LimitExceeded(message, self.get_mark(), "")


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)

# Text the fast reader leaves to the reference one: characters YAML does not allow, tabs
# and line breaks other than \n and \r\n (PyYAML refuses some tabs libyaml takes, and may
# count such lines apart), and a comment right after '|' or '>' (libyaml takes "|#").
_UNUSUAL_TEXT = re.compile(
    yaml.reader.Reader.NON_PRINTABLE.pattern + "|[\t\x85\u2028\u2029]|\r(?!\n)|[|>][-+0-9]*#"
)

_FastLoader: type[_LimitedComposer] | None
try:  # libyaml is part of PyYAML's wheels; without it every text takes the reference path
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    _FastLoader = None
else:

    class _LibyamlLoader(
        _LimitedComposer, _CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver
    ):
        """libyaml's events (C), composed and resolved exactly as the reference reader does."""

        def __init__(self, text: str, limits: YamlLimits) -> None:
            _CParser.__init__(self, text)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._start_counting(limits)

        def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
            event = self.peek_event()
            # Two places the parsers part, left to the reference reader: inside [..] or
            # {..} PyYAML ends a plain text at '?', libyaml does not ("{en: months? }" is
            # an error in PyYAML); and a value left empty ("{a: }", a lone "?") is placed
            # a column or a line apart, which would move a message's line.
            if (
                isinstance(event, yaml.ScalarEvent)
                and not event.style  # plain: libyaml says "", PyYAML None
                and (
                    not event.value or ("?" in event.value and getattr(parent, "flow_style", False))
                )
            ):
                raise yaml.YAMLError("left to the reference reader")
            return super().compose_node(parent, index)

    _LibyamlLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _FastLoader = _LibyamlLoader


# -- building Python objects ---------------------------------------------------------------


class _Builder:
    """Builds Python objects from a node tree, recording positions and duplicate keys."""

    def __init__(self, loader: yaml.constructor.SafeConstructor, doc: YamlDocument) -> None:
        self.loader = loader
        self.doc = doc
        self.active: set[int] = set()

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.doc.value_marks.setdefault(path, node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if node.tag not in _COLLECTION_TAGS:
            raise yaml.MarkedYAMLError(
                problem=f"the tag {node.tag} is not supported here", problem_mark=node.start_mark
            )
        if id(node) in self.active:  # pragma: no cover - the loader refuses it first
            raise yaml.MarkedYAMLError(
                problem="an alias refers to a value that contains it", problem_mark=node.start_mark
            )
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.loader.construct_object(node)
        # '!!int abc', '2026-13-45', '!!timestamp x' (PyYAML fails on its own regex there)
        except (ValueError, TypeError, OverflowError, AttributeError, IndexError, KeyError):
            kind = node.tag.rsplit(":", 1)[-1]
            raise yaml.MarkedYAMLError(
                problem=f"{node.value!r} is not a valid {kind}; put it in quotes if it is a text",
                problem_mark=node.start_mark,
            ) from None

    def _mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        first_lines: dict[Any, int] = {}
        merges: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise yaml.MarkedYAMLError(
                    problem="a key must be a plain text, not a list or a mapping",
                    problem_mark=key_node.start_mark,
                )
            key = self._scalar(key_node)
            try:
                hash(key)
            except TypeError:
                raise yaml.MarkedYAMLError(
                    problem="a key must be a plain text", problem_mark=key_node.start_mark
                ) from None
            if key in out:
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                message = f"duplicate key {key!r} (first given on line {first_lines[key]})"
                self.doc.problems.append(
                    StudyProblem(message, field_path((*path, key)), line, column)
                )
                continue
            first_lines[key] = key_node.start_mark.line + 1
            self.doc.key_marks.setdefault((*path, key), key_node.start_mark)
            out[key] = self.build(value_node, (*path, key))
        for merge in merges:  # '<<: *anchor': keys given here win, then earlier merges
            sources = merge.value if isinstance(merge, yaml.SequenceNode) else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise yaml.MarkedYAMLError(
                        problem="'<<' merges a mapping or a list of mappings",
                        problem_mark=source.start_mark,
                    )
                for key, value in self._mapping(source, path).items():
                    out.setdefault(key, value)
        return out


def _yaml_problem(exc: yaml.MarkedYAMLError) -> StudyProblem:
    """A PyYAML error as a plain message at the line to fix."""
    problem = exc.problem or str(exc)
    context = exc.context or ""
    mark = exc.problem_mark or exc.context_mark
    if "'\\t'" in problem:
        message = "a tab character: YAML indents with spaces only, never tabs"
    elif "cannot start any token" in problem:
        char = problem.split("'")[1] if "'" in problem else "?"
        message = f"a value cannot start with {char!r} here: put the text in quotes"
    elif problem == "mapping values are not allowed here":
        message = (
            "unexpected ':' here: put a text that contains ': ' in quotes, or check that "
            "this line is indented like the keys around it"
        )
    elif "could not find expected ':'" in problem:
        mark = exc.context_mark or mark
        message = "expected 'key: value' on this line (is the ':' missing?)"
    elif problem.startswith("expected <block end>") or "expected '<document start>'" in problem:
        message = "bad indentation: this line does not line up with the lines above it"
    elif "flow sequence" in context or "flow mapping" in context:
        mark = exc.context_mark or mark
        opening = "[" if "sequence" in context else "{"
        closing = "]" if opening == "[" else "}"
        message = f"the {opening!r} opened here is never closed with {closing!r}"
    elif "quoted scalar" in context:
        mark = exc.context_mark or mark
        message = "the quote opened here is never closed"
    elif "undefined alias" in problem:
        message = f"{problem}: define it first with '&name'"
    elif "expected a single document" in context:
        message = "a file holds one YAML document: remove the second '---'"
    else:
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return StudyProblem(message, "", line, column)
