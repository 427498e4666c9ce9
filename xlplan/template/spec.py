"""Template definitions: YAML rendered with jinja2 for one cycle, checked, made into a Template.

A definition lives in `templates/NAME.yaml`. Its `params:` are the cycle's parameters
with their defaults (regions, segments, indicators ...); the whole file is a jinja2
template rendered with those parameters, so a changed region list needs no code.
"""
from __future__ import annotations

import functools
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta as jinja2meta
import yaml

from .. import shipped
from ..model import (
    ROLES,
    SEVERITIES,
    UNITS,
    Block,
    Check,
    Dim,
    Section,
    Sheet,
    Template,
    TemplateError,
    View,
)
from .. import texts
from . import formula, views
from .parameters import as_declared, misfit

TEMPLATE_DIR = shipped.folder("templates")

BUILTIN_DIMS = {
    "month": Dim("month", {lang: tuple(texts.month(m, lang) for m in range(1, 13)) for lang in texts.LANGUAGES}),
    "quarter": Dim("quarter", {lang: tuple(texts.quarter(q, lang) for q in range(1, 5)) for lang in texts.LANGUAGES}),
}
SUMMARY_RULES = {
    # how a monthly row becomes quarters and the year
    "sum": ("sum({name}[{rowsel}3 * quarter - 2:3 * quarter])", "sum({name}[{rowsel}:])"),
    "last": ("{name}[{rowsel}3 * quarter]", "{name}[{rowsel}12]"),
    "average": ("blank if count({name}[{rowsel}3 * quarter - 2:3 * quarter]) == 0 "
                "else average({name}[{rowsel}3 * quarter - 2:3 * quarter])",
                "blank if count({name}[{rowsel}:]) == 0 else average({name}[{rowsel}:])"),
}
# -- the checks a template declares: each kind's arguments and their types ------------------
BLOCK = "a block"
VALUE = "a block or a number"
NUMBER = "a number"
FLAG = "true or false"
FIELDS = "a mapping of names to blocks"
BLOCKS = "a list of blocks"


@dataclass(frozen=True)
class CheckKind:
    """The arguments of one kind of check (workbook/checks.py runs it), name → type."""

    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> dict[str, str]:
        return {**self.required, **self.optional}


# `when: B` limits a check to the cells where B is filled, `unless: B` to those where it is not
_WHERE = {"when": BLOCK, "unless": BLOCK}
_COMPARISON = CheckKind({"actual": BLOCK, "expected": VALUE}, {"at": BLOCK, "fields": FIELDS, **_WHERE})
CHECK_KINDS: dict[str, CheckKind] = {
    "equal": CheckKind(_COMPARISON.required, {**_COMPARISON.optional, "tolerance": NUMBER,
                                              "relative_tolerance": NUMBER, "skip_blank": FLAG}),
    "at_least": _COMPARISON,
    "at_most": _COMPARISON,
    "between": CheckKind({"block": BLOCK}, {"min": NUMBER, "max": NUMBER, "fields": FIELDS}),
    # factors: the blocks a computed amount is the product of, shown as "50 × 80 × 2 × 4"
    "stated": CheckKind({"stated": BLOCK, "computed": VALUE}, {"fields": FIELDS, "factors": BLOCKS, **_WHERE}),
    "nonzero": CheckKind({"block": BLOCK}, {"when": VALUE, "unless": BLOCK, "fields": FIELDS}),
}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


ARG_TYPES = {  # what a value of each type looks like in the YAML
    BLOCK: lambda v: isinstance(v, str),
    VALUE: lambda v: isinstance(v, str) or _is_number(v),
    NUMBER: _is_number,
    FLAG: lambda v: isinstance(v, bool),
    FIELDS: lambda v: isinstance(v, dict) and all(isinstance(b, str) for b in v.values()),
    BLOCKS: lambda v: isinstance(v, list) and all(isinstance(b, str) for b in v),
}


def check_blocks(check: Check) -> list[str]:
    """Every block a check names (its block arguments and its fields)."""
    kind = CHECK_KINDS[check.kind]
    out = []
    for key, kind_of in kind.args.items():
        value = check.args.get(key)
        if kind_of in (BLOCK, VALUE) and isinstance(value, str):
            out.append(value)
        elif kind_of == FIELDS and value:
            out += list(value.values())
        elif kind_of == BLOCKS and value:
            out += list(value)
    return out


INSTRUCTION_PARTS = ("appraisal",)  # what a template may add to its Instructions sheet
CELL_REF = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*)$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TABLE_HEADER_FORBIDDEN = set("[]#'\"{}$^&*+=-<>/,:.\t\n\r")


def template_dirs() -> list[Path]:
    extra = [Path(p) for p in os.environ.get("XLPLAN_TEMPLATES", "").split(os.pathsep) if p]
    return extra + [TEMPLATE_DIR]


def available() -> dict[str, Path]:
    """Template id -> definition file, first found wins.

    Each folder is listed again only when it changed (its modification time: a definition
    added, removed or renamed), or lately, as a folder's time is kept in steps of some
    milliseconds: a merge asks for every file it reads."""
    folders = tuple(template_dirs())
    modified = tuple(_modified(folder) for folder in folders)
    if any(m is not None and time.time_ns() - m < 2_000_000_000 for m in modified):
        return dict(_available.__wrapped__(folders, modified))
    return dict(_available(folders, modified))


def _modified(folder: Path) -> int | None:
    try:
        return folder.stat().st_mtime_ns
    except OSError:
        return None


@functools.lru_cache(maxsize=16)
def _available(folders: tuple[Path, ...], modified: tuple[int | None, ...]) -> tuple[tuple[str, Path], ...]:
    found: dict[str, Path] = {}
    for folder in folders:
        for path in sorted(folder.glob("*.yaml")):
            if not path.name.startswith("_"):  # _name.yaml: a part other definitions include
                found.setdefault(path.stem, path)
    return tuple(found.items())


def load(template_id: str, params: dict | None = None, version: str | None = None) -> Template:
    """The template `template_id` rendered for a cycle's parameters.

    Cycles whose parameters render to the same definition share one Template (and so
    one compiled engine): the unit's name changes nothing in most templates.
    With `version`, an earlier version kept in `versions/ID-VERSION.yaml` when the
    current definition is another version and that file exists (a workbook made with
    it still reads as it was made); otherwise the current one.
    """
    paths = available()
    if template_id not in paths:
        known = ", ".join(sorted(paths)) or "none"
        raise TemplateError(f"no template {template_id!r} (known: {known})")
    current = _load_path(paths[template_id], params)
    if version is None or str(version) == current.version:
        return current
    earlier = earlier_version(template_id, str(version))
    return current if earlier is None else _load_path(earlier, params)


def current_source(template_id: str) -> str:
    """The file name a template's current definition is read from (an earlier version's differs)."""
    path = available().get(template_id)
    return path.name if path else ""


def earlier_version(template_id: str, version: str) -> Path | None:
    """The kept definition of an earlier version of a template, if there is one."""
    if not re.match(r"^[0-9][0-9A-Za-z.]*$", version):
        return None
    for folder in template_dirs():
        path = folder / "versions" / f"{template_id}-{version}.yaml"
        if path.is_file():
            return path
    return None


def _load_path(path: Path, params: dict | None) -> Template:
    definition = _definition(str(path), path.stat().st_mtime)
    values = {**definition.defaults, **{k: v for k, v in (params or {}).items() if v is not None}}
    if "lang" in values:
        values["lang"] = texts.language(values["lang"])  # 'zh' in an old workbook is 'zh-Hans'
    # only the parameters the definition uses decide what it renders to: a merge of
    # ten thousand units renders each template once, not once per unit
    used = values if "*" in definition.uses else {k: values[k] for k in sorted(definition.uses) if k in values}
    key = json.dumps(used, sort_keys=True, ensure_ascii=False, default=str)
    return _rendered(definition, key, path.name)


# set by the cycle (generate.Cycle), not by a --param
CYCLE_PARAMS = ("lang", "unit", "year")


def parameters(template_id: str) -> dict[str, Any]:
    """A template's cycle parameters a user may set (--param KEY=VALUE), with their defaults."""
    paths = available()
    if template_id not in paths:
        known = ", ".join(sorted(paths)) or "none"
        raise TemplateError(f"no template {template_id!r} (known: {known})")
    path = paths[template_id]
    defaults = _definition(str(path), path.stat().st_mtime).defaults
    return {k: v for k, v in defaults.items() if k not in CYCLE_PARAMS}


def check_parameters(template_id: str, params: dict) -> dict:
    """The parameters given for a workbook (--param, a data file), each as the type the template
    declares; a TemplateError naming the parameter for one the template does not have (a typo
    would otherwise be ignored) or a value of another type (as the reader would refuse it)."""
    known = parameters(template_id)
    unknown = sorted(set(params) - set(known) - set(CYCLE_PARAMS))
    if unknown:
        raise TemplateError(f"{template_id} has no parameter {', '.join(map(repr, unknown))} "
                            f"(known: {', '.join(known) or 'none'})")
    out = dict(params)
    for key, value in params.items():
        if key in known:
            problem = misfit(value, known[key])
            if problem:
                raise TemplateError(f"{template_id}: the parameter {key!r} {problem}")
            out[key] = as_declared(value, known[key])
    return out


@functools.lru_cache(maxsize=256)
def _rendered(definition: "Definition", used_params: str, where: str) -> Template:
    try:
        rendered = definition.body.render(**{**definition.defaults, **json.loads(used_params)})
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: cannot render: {exc}") from None
    return _built(rendered, where)


@dataclass(frozen=True, eq=False)
class Definition:
    """A definition file, parsed: its parameters' defaults, its jinja2 body and the names it uses."""

    defaults: dict
    body: jinja2.Template
    uses: frozenset[str]


@functools.lru_cache(maxsize=32)
def _definition(path: str, mtime: float) -> Definition:
    """A definition file parsed once (per modification time)."""
    source = Path(path).read_text(encoding="utf-8")
    where = Path(path).name
    head, body = source.split("\n---\n", 1) if "\n---\n" in source else ("", source)
    head_data = _yaml(head, where) or {}
    defaults = head_data.get("params", {}) if isinstance(head_data, dict) else {}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             loader=jinja2.FileSystemLoader([str(Path(path).parent)]
                                                            + [str(d) for d in template_dirs()]))
    env.globals["say"] = _say
    try:
        # every definition renders per language: say() reads `lang` without naming it
        return Definition(defaults, env.from_string(body), _names_used(env, env.parse(body)) | {"lang"})
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{where}: the template does not parse: {exc}") from None


def _names_used(env: jinja2.Environment, tree, seen: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every variable a jinja2 body reads, its included parts' included."""
    names = set(jinja2meta.find_undeclared_variables(tree))
    for part in jinja2meta.find_referenced_templates(tree):
        if part is None or part in seen:
            names |= set() if part in seen else {"*"}  # an include we cannot follow: assume it reads anything
            continue
        assert env.loader is not None  # _definition always gives one
        source = env.loader.get_source(env, part)[0]
        names |= _names_used(env, env.parse(source), seen | {part})
    return frozenset(names)


@functools.lru_cache(maxsize=64)
def _built(rendered: str, where: str) -> Template:
    data = _yaml(rendered, where)
    if not isinstance(data, dict):
        raise TemplateError(f"{where}: a template is a mapping with id, version, sheets")
    return build(data, where)


def load_file(path: Path, params: dict | None = None) -> Template:
    """A definition file outside the template folders, rendered for `params`."""
    definition = _definition(str(path), path.stat().st_mtime)
    try:
        values = {**definition.defaults, **(params or {})}
        if "lang" in values:
            values["lang"] = texts.language(values["lang"])
        rendered = definition.body.render(**values)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"{path.name}: cannot render: {exc}") from None
    return _built(rendered, path.name)


# libyaml's parser where PyYAML was built with it: the same documents, read several times faster
# (each merge worker reads each template once before its first file)
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _yaml(text: str, where: str) -> Any:
    try:
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise TemplateError(f"{where}: not valid YAML: {exc}") from None


@jinja2.pass_context
def _say(context, **by_language):
    """In a definition, a value that differs by language (a list's choices, a word a formula
    compares): {{ say(zh_Hans=[...], zh_Hant=[...], en=[...]) }} gives the cycle's one."""
    return texts.pick({k.replace("_", "-"): v for k, v in by_language.items()}, context.get("lang") or texts.DEFAULT)


def _language_key(key, where) -> str:
    try:
        return texts.language(str(key))
    except texts.UnknownLanguage:
        raise TemplateError(f"{where}: {key!r} is not a language (use {', '.join(texts.LANGUAGES)})") from None


def _labels(value, where) -> dict[str, str]:
    """A label: {zh-Hans: ..., zh-Hant: ..., en: ...} (zh is zh-Hans), or one text for every language."""
    if value is None:
        return {}
    if isinstance(value, (str, int, float)):
        return {lang: str(value) for lang in texts.LANGUAGES}
    if isinstance(value, dict):
        return {_language_key(k, where): str(v) for k, v in value.items()}
    raise TemplateError(f"{where}: a label is text or {{zh-Hans: ..., zh-Hant: ..., en: ...}}, not {value!r}")


def _dim(name: str, spec, where) -> Dim:
    labels = spec.get("labels") if isinstance(spec, dict) else spec
    if isinstance(labels, list):
        labels = {lang: labels for lang in texts.LANGUAGES}
    if not isinstance(labels, dict) or not labels:
        raise TemplateError(f"{where}: dim {name!r} needs labels")
    out = {_language_key(lang, where): tuple(str(x) for x in items) for lang, items in labels.items()}
    sizes = {len(v) for v in out.values()}
    if len(sizes) != 1 or 0 in sizes:
        raise TemplateError(f"{where}: dim {name!r} has labels of different lengths {sorted(sizes)}")
    units = tuple(spec.get("units", ())) if isinstance(spec, dict) else ()
    if units and (len(units) not in sizes or any(u not in UNITS for u in units)):
        raise TemplateError(f"{where}: dim {name!r} units must be one per label, each one of {UNITS}")
    return Dim(name, out, units)


def build(data: dict, where: str) -> Template:
    for key in ("id", "version", "sheets"):
        if key not in data:
            raise TemplateError(f"{where}: missing {key!r}")
    dims = dict(BUILTIN_DIMS)
    for name, spec in (data.get("dims") or {}).items():
        dims[name] = _dim(name, spec, f"{where} › dims")
    sheets = tuple(_sheet(s, dims, f"{where} › sheets[{i}]") for i, s in enumerate(data["sheets"]))
    checks = tuple(_check(c, f"{where} › checks[{i}]") for i, c in enumerate(data.get("checks") or []))
    views = tuple(_view(v, f"{where} › consolidation[{i}]") for i, v in enumerate(data.get("consolidation") or []))
    instructions = tuple(str(x) for x in data.get("instructions") or ())
    for part in instructions:
        if part not in INSTRUCTION_PARTS:
            raise TemplateError(f"{where}: instructions: no part {part!r} (known: {', '.join(INSTRUCTION_PARTS)})")
    template = Template(
        id=str(data["id"]), version=str(data["version"]), title=_labels(data.get("title"), where),
        dims=dims, sheets=sheets, checks=checks, source=where, views=views, instructions=instructions,
    )
    validate(template)
    return template


def _sheet(spec: dict, dims, where) -> Sheet:
    title = _labels(spec.get("title"), where)
    for _lang, name in title.items():
        if len(name) > 31 or set(name) & set("[]:*?/\\"):
            raise TemplateError(f"{where}: sheet title {name!r} is not a valid Excel sheet name")
    sections = tuple(_section(s, dims, f"{where} › sections[{i}]")
                     for i, s in enumerate(spec.get("sections") or []))
    return Sheet(id=str(spec.get("id")), title=title, sections=sections,
                 note=_labels(spec.get("note"), where))


def _block(spec: dict, where, **extra) -> Block:
    if "name" not in spec:
        raise TemplateError(f"{where}: a block needs a name")
    name = str(spec["name"])
    where = f"{where} › {name}"
    role = spec.get("role", "computed" if "formula" in spec else "input")
    unit = spec.get("unit", "number")
    if role not in ROLES:
        raise TemplateError(f"{where}: role {role!r} is not one of {ROLES}")
    if unit not in UNITS:
        raise TemplateError(f"{where}: unit {unit!r} is not one of {UNITS}")
    if role == "computed" and not spec.get("formula"):
        raise TemplateError(f"{where}: a computed block needs a formula")
    choices = spec.get("choices")
    if isinstance(choices, list):
        choices = tuple(str(c) for c in choices)
    fields = dict(
        name=name, label=_labels(spec.get("label", name), where), role=role, unit=unit,
        rows=spec.get("rows"), cols=spec.get("cols"), formula=spec.get("formula"),
        choices=choices, required=bool(spec.get("required", False)),
        minimum=spec.get("min"), maximum=spec.get("max"), help=_labels(spec.get("help"), where),
        highlight_nonzero=bool(spec.get("highlight_nonzero", False)),
        under=spec.get("under"), width=spec.get("width"), collapsed=bool(spec.get("collapsed", False)),
        default=spec.get("default"), lines=_lines(spec.get("lines", 1), where),
        measure=_measure(spec.get("measure"), where),
    )
    fields.update(extra)
    if fields.get("table") and fields["measure"] and "." not in fields["measure"]:
        fields["measure"] = f"{fields['table']}.{fields['measure']}"  # a column names its table's columns short
    return Block(**fields)


def _measure(value, where) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not NAME.match(value.split(".")[-1]):
        raise TemplateError(f"{where}: measure names the block holding each row's unit of measure, not {value!r}")
    return value


def _lines(value, where) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 40:
        raise TemplateError(f"{where}: lines is a whole number from 1 to 40, not {value!r}")
    return value


def _summaries(block: Block, rule, where) -> list[Block]:
    """The quarter and year blocks beside a monthly row."""
    if rule in (None, "none"):
        return []
    rowsel = "row_of_block, " if block.rows else ""
    if isinstance(rule, dict):
        quarter, year = rule.get("quarter"), rule.get("year")
    elif rule in SUMMARY_RULES:
        quarter, year = (t.format(name=block.name, rowsel=rowsel) for t in SUMMARY_RULES[rule])
    else:
        raise TemplateError(f"{where}: summary {rule!r} is none, sum, last, average or a mapping")
    if block.rows:
        quarter = quarter and quarter.replace("row_of_block", block.rows)
        year = year and year.replace("row_of_block", block.rows)
    unit = block.unit
    out = []
    if quarter:
        out.append(Block(name=f"{block.name}_q", label=block.label, role="computed", unit=unit,
                         rows=block.rows, cols="quarter", formula=quarter, beside=block.name,
                         highlight_nonzero=block.highlight_nonzero))
    if year:
        out.append(Block(name=f"{block.name}_y", label=block.label, role="computed", unit=unit,
                         rows=block.rows, cols=None, formula=year, beside=block.name,
                         highlight_nonzero=block.highlight_nonzero))
    return out


def _section(spec: dict, dims, where) -> Section:
    kind = spec.get("kind")
    title = _labels(spec.get("title"), where)
    raw = spec.get("blocks") or spec.get("columns") or []
    if kind == "form":
        blocks = tuple(_block(b, where) for b in raw)
        return Section(kind=kind, blocks=blocks, title=title)
    if kind == "columns":
        rows = spec.get("rows")
        blocks = tuple(_block({**b, "rows": rows}, where) for b in raw)
        totals = tuple(_block(b, where) for b in spec.get("totals") or [])
        return Section(kind=kind, blocks=blocks, title=title, rows=rows, totals=totals,
                       total_label=_labels(spec.get("total_label", texts.TEXTS["total"]), where))
    if kind == "rows":
        cols = spec.get("cols", "month")
        with_summaries: list[Block] = []
        for b in raw:
            block = _block({**b, "cols": cols}, where)
            with_summaries.append(block)
            if spec.get("summary") and cols == "month":
                with_summaries.extend(_summaries(block, b.get("summary", "sum"), f"{where} › {block.name}"))
        return Section(kind=kind, blocks=tuple(with_summaries), title=title, cols=cols)
    if kind == "table":
        table = spec.get("table")
        if not table:
            raise TemplateError(f"{where}: a table section needs table: NAME")
        blocks = tuple(_block({**b, "name": f"{table}.{b.get('name')}"}, where, table=table) for b in raw)
        return Section(kind=kind, blocks=blocks, title=title, table=str(table),
                       size=int(spec.get("size", 10)))
    raise TemplateError(f"{where}: section kind {kind!r} is form, columns, rows or table")


def _check(spec: dict, where) -> Check:
    for key in ("code", "kind", "message"):
        if key not in spec:
            raise TemplateError(f"{where}: a check needs {key!r}")
    severity = spec.get("severity", "error")
    if severity not in SEVERITIES:
        raise TemplateError(f"{where}: severity {severity!r} is not one of {SEVERITIES}")
    kind = CHECK_KINDS.get(spec["kind"])
    if kind is None:
        raise TemplateError(f"{where}: check kind {spec['kind']!r} is not one of {tuple(CHECK_KINDS)}")
    args = {k: v for k, v in spec.items() if k not in ("code", "kind", "severity", "message")}
    for key in kind.required:
        if key not in args:
            raise TemplateError(f"{where}: a {spec['kind']} check needs {key!r}")
    for key, value in args.items():
        if key not in kind.args:
            raise TemplateError(f"{where}: a {spec['kind']} check has no {key!r} "
                                f"(it takes {', '.join(kind.args)})")
        if not ARG_TYPES[kind.args[key]](value):
            raise TemplateError(f"{where}: {key} is {kind.args[key]}, not {value!r}")
    return Check(code=str(spec["code"]), kind=str(spec["kind"]), severity=severity,
                 message=_labels(spec["message"], where), args=args)


def _view(spec: dict, where) -> View:
    if not isinstance(spec, dict) or "id" not in spec or "kind" not in spec:
        raise TemplateError(f"{where}: a consolidation view needs id and kind")
    if spec["kind"] not in views.KINDS:
        raise TemplateError(f"{where}: view kind {spec['kind']!r} is not one of {views.KINDS}")
    args = {k: v for k, v in spec.items() if k not in ("id", "kind", "title")}
    return View(id=str(spec["id"]), kind=str(spec["kind"]), title=_labels(spec.get("title", spec["id"]), where),
                args=args)


def _validate_measure(template: Template, block, where) -> None:
    """`measure: B` on a number block: B is a block of unit `measure` in the same rows (the same
    table, or the same row axis), so each row's number is shown and quoted in the unit chosen
    there. A measure's words come from the catalogue (texts.measure_words), not from choices."""
    if block.unit == "measure" and block.choices:
        raise TemplateError(f"{where} › {block.name}: a measure offers the catalogue's units of measure; "
                            "it takes no choices")
    if not block.measure:
        return
    other = template.blocks.get(block.measure)
    if other is None:
        raise TemplateError(f"{where} › {block.name}: measure names no block {block.measure!r}")
    if other.unit != "measure":
        raise TemplateError(f"{where} › {block.name}: measure {block.measure!r} is of unit {other.unit!r}, "
                            "not measure")
    if block.unit != "number":
        raise TemplateError(f"{where} › {block.name}: only a block of unit number takes its unit from a "
                            f"measure (this one is {block.unit!r})")
    same_rows = (other.table == block.table if block.table
                 else not other.table and other.rows == block.rows and other.cols is None)
    if not same_rows:
        raise TemplateError(f"{where} › {block.name}: measure {block.measure!r} must sit in the same rows "
                            "(the same table, or one column over the same row axis)")


def validate(template: Template) -> None:
    """Names unique and valid, axes known, every name a check or a formula uses known, formulas
    that parse: fail at load, not in Excel."""
    where = template.source
    seen: set[str] = set()
    for sheet in template.sheets:
        for section in sheet.sections:
            for block in section.blocks + section.totals:
                plain = block.name.split(".")[-1]
                if not NAME.match(plain) or CELL_REF.match(plain):
                    raise TemplateError(f"{where}: block name {block.name!r} must be lower_case "
                                        "and must not look like a cell address")
                if block.name in seen:
                    raise TemplateError(f"{where}: block {block.name!r} is defined twice")
                seen.add(block.name)
                for axis in (block.rows, block.cols):
                    if axis and axis not in template.dims:
                        raise TemplateError(f"{where}: block {block.name!r} uses unknown axis {axis!r}")
                if block.table:
                    for _lang, label in block.label.items():
                        if set(label) & TABLE_HEADER_FORBIDDEN:
                            raise TemplateError(f"{where}: table column label {label!r} has a character "
                                                "Excel tables do not allow in a header")
            if section.table:
                if section.table in seen:
                    raise TemplateError(f"{where}: table name {section.table!r} clashes with a block")
                seen.add(section.table)
    for block in template.blocks.values():
        _validate_measure(template, block, where)
    for check in template.checks:
        for name in check_blocks(check):
            if name not in seen:
                raise TemplateError(f"{where}: check {check.code} names unknown block {name!r}")
    for block in template.blocks.values():
        if block.formula:
            tree = formula.parse(str(block.formula), f"{where} › {block.name}")
            axes = {axis for axis in (block.rows, block.cols) if axis}
            unknown = formula.unknown_names(tree, block.table, axes, set(template.blocks))
            if unknown:
                raise TemplateError(f"{where} › {block.name}: the formula names no block, axis or function "
                                    f"called {', '.join(map(repr, unknown))}")
    for view in template.views:
        views.validate(template, view)
