"""Every way a template definition is refused when it is loaded, one case each.

A template author's mistake must stop `xlplan new` with a message naming the file and
the item, never reach Excel or a merge. Each case below starts from a small valid
definition, breaks one thing and expects spec.py's TemplateError for it; the last test
makes sure every `raise TemplateError` in spec.py has a case here.
"""
from __future__ import annotations

import ast
import copy
import inspect
import os
from pathlib import Path

import pytest

from xlplan.model import TemplateError
from xlplan.template import spec
from xlplan.workbook import checks


def valid() -> dict:
    return {
        "id": "small", "version": "1", "title": {"zh-Hans": "小", "en": "Small"},
        "dims": {"region": {"labels": ["North", "South"], "units": ["yuan", "count"]}},
        "sheets": [{"id": "main", "title": "Plan", "sections": [
            {"kind": "form", "blocks": [{"name": "target", "label": "Target", "unit": "yuan"},
                                        {"name": "double", "label": "Double", "formula": "target * 2"}]},
            {"kind": "rows", "cols": "month", "summary": True,
             "blocks": [{"name": "sales", "label": "Sales", "summary": "sum"}]},
            {"kind": "table", "table": "actions", "size": 3,
             "blocks": [{"name": "item", "label": "Item", "unit": "text"},
                        {"name": "cost", "label": "Cost", "unit": "yuan"}]},
        ]}],
        "checks": [{"code": "DOUBLE", "kind": "at_least", "actual": "double", "expected": 0,
                    "message": "{actual} below {expected}"}],
        "consolidation": [{"id": "plan", "kind": "sum", "value": "sales"}],
    }


def test_the_valid_definition_loads():
    template = spec.build(valid(), "small.yaml")
    assert set(template.blocks) >= {"target", "double", "sales", "sales_q", "sales_y", "actions.item"}


def first_block(d):
    return d["sheets"][0]["sections"][0]["blocks"][0]


def check(d):
    return d["checks"][0]


def table_columns(d):
    return d["sheets"][0]["sections"][2]["blocks"]


MEASURE = {"name": "shown_in", "label": "Shown in", "unit": "measure"}


def measured(d, column: dict | None = None, **on_count):
    """The table gains a count measured in a `measure` column (or `column`, as given)."""
    table_columns(d).append(column if column is not None else MEASURE)
    table_columns(d).append({"name": "count", "label": "Count", "unit": "number", "measure": "shown_in", **on_count})


CASES = [  # (covered function, what is broken, the message)
    ("_language_key", lambda d: d.update(title={"xx": "?"}), r"'xx' is not a language"),
    ("_labels", lambda d: d.update(title=["a", "b"]), r"a label is text or \{zh-Hans"),
    ("_dim", lambda d: d["dims"].update(region={}), r"dim 'region' needs labels"),
    ("_dim", lambda d: d["dims"].update(region={"labels": {"zh-Hans": ["a", "b"], "en": ["a"]}}),
     r"dim 'region' has labels of different lengths \[1, 2\]"),
    ("_dim", lambda d: d["dims"]["region"].update(units=["yuan"]), r"dim 'region' units must be one per label"),
    ("build", lambda d: d.pop("version"), r"small.yaml: missing 'version'"),
    ("build", lambda d: d.update(instructions=["poetry"]), r"instructions: no part 'poetry' \(known: appraisal\)"),
    ("_sheet", lambda d: d["sheets"][0].update(title="Plan/2027"), r"sheet title 'Plan/2027' is not a valid"),
    ("_block", lambda d: first_block(d).pop("name"), r"sheets\[0\] › sections\[0\]: a block needs a name"),
    ("_block", lambda d: first_block(d).update(role="typed"), r"› target: role 'typed' is not one of"),
    ("_block", lambda d: first_block(d).update(unit="euro"), r"› target: unit 'euro' is not one of"),
    ("_block", lambda d: first_block(d).update(role="computed"), r"› target: a computed block needs a formula"),
    ("_measure", lambda d: measured(d, measure="shown in"),
     r"› actions.count: measure names the block holding each row's unit of measure, not 'shown in'"),
    ("_validate_measure", lambda d: measured(d, {**MEASURE, "choices": ["%", "kg"]}),
     r"› actions.shown_in: a measure offers the catalogue's units of measure; it takes no choices"),
    ("_validate_measure", lambda d: measured(d, measure="nowhere"),
     r"› actions.count: measure names no block 'actions.nowhere'"),
    ("_validate_measure", lambda d: measured(d, {**MEASURE, "unit": "text"}),
     r"› actions.count: measure 'actions.shown_in' is of unit 'text', not measure"),
    ("_validate_measure", lambda d: measured(d, unit="percent"),
     r"› actions.count: only a block of unit number takes its unit from a measure \(this one is 'percent'\)"),
    ("_validate_measure", lambda d: (measured(d), first_block(d).update(unit="number", measure="actions.shown_in")),
     r"› target: measure 'actions.shown_in' must sit in the same rows \(the same table, or one column"),
    ("_lines", lambda d: first_block(d).update(lines=0), r"› target: lines is a whole number from 1 to 40, not 0"),
    ("_summaries", lambda d: d["sheets"][0]["sections"][1]["blocks"][0].update(summary="median"),
     r"› sales: summary 'median' is none, sum, last, average or a mapping"),
    ("_section", lambda d: d["sheets"][0]["sections"][2].pop("table"), r"a table section needs table: NAME"),
    ("_section", lambda d: d["sheets"][0]["sections"][0].update(kind="grid"),
     r"section kind 'grid' is form, columns, rows or table"),
    ("_check", lambda d: check(d).pop("message"), r"checks\[0\]: a check needs 'message'"),
    ("_check", lambda d: check(d).update(severity="fatal"), r"severity 'fatal' is not one of"),
    ("_check", lambda d: check(d).update(kind="roughly"), r"check kind 'roughly' is not one of \('equal'"),
    ("_check", lambda d: check(d).pop("expected"), r"a at_least check needs 'expected'"),
    ("_check", lambda d: check(d).update(tolerance=1), r"a at_least check has no 'tolerance' \(it takes actual"),
    ("_check", lambda d: check(d).update(expected=["double"]), r"expected is a block or a number, not \['double'\]"),
    ("_view", lambda d: d["consolidation"][0].pop("kind"), r"a consolidation view needs id and kind"),
    ("_view", lambda d: d["consolidation"][0].update(kind="pie"), r"view kind 'pie' is not one of"),
    ("validate", lambda d: first_block(d).update(name="AB12"), r"block name 'AB12' must be lower_case"),
    ("validate", lambda d: first_block(d).update(name="double"), r"block 'double' is defined twice"),
    ("validate", lambda d: first_block(d).update(rows="branch"), r"block 'target' uses unknown axis 'branch'"),
    ("validate", lambda d: d["sheets"][0]["sections"][2]["blocks"][1].update(label="Cost [yuan]"),
     r"table column label 'Cost \[yuan\]' has a character"),
    ("validate", lambda d: first_block(d).update(name="actions"), r"table name 'actions' clashes with a block"),
    ("validate", lambda d: check(d).update(actual="triple"), r"check DOUBLE names unknown block 'triple'"),
    ("validate", lambda d: d["sheets"][0]["sections"][0]["blocks"][1].update(formula="target * rate + sqrt(2)"),
     r"› double: the formula names no block, axis or function called 'rate', 'sqrt\(\)'"),
]


@pytest.mark.parametrize("covers, breaks, message", CASES, ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_a_broken_definition_is_refused_at_load(covers, breaks, message):
    definition = copy.deepcopy(valid())
    breaks(definition)
    with pytest.raises(TemplateError, match=message):
        spec.build(definition, "small.yaml")


# -- the definition file: found, rendered, parsed ----------------------------------------------
@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A template folder of the test's own, searched before the shipped one."""
    monkeypatch.setenv("XLPLAN_TEMPLATES", str(tmp_path))
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


FILE_CASES = [  # (covered function, file text, the message)
    ("_rendered", "params:\n  regions: [A]\n---\nid: {{ region }}\n",
     r"broken.yaml: cannot render: 'region' is undefined"),
    ("_definition", "id: {% if %}\n", r"broken.yaml: the template does not parse"),
    ("_built", "- id\n- version\n", r"broken.yaml: a template is a mapping with id, version, sheets"),
    ("_yaml", "id: [unclosed\n", r"broken.yaml: not valid YAML"),
]


@pytest.mark.parametrize("covers, text, message", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_a_definition_file_that_cannot_be_read_is_refused(folder, covers, text, message):
    write(folder, "broken", text)
    with pytest.raises(TemplateError, match=message):
        spec.load("broken")


def test_load_file_refuses_a_file_that_cannot_render(folder):
    path = write(folder, "_part", "id: {{ missing }}\n")
    with pytest.raises(TemplateError, match=r"_part.yaml: cannot render: 'missing' is undefined"):
        spec.load_file(path)


def test_an_unknown_template_or_parameter_is_refused_with_what_is_known():
    with pytest.raises(TemplateError, match=r"no template 'anual_plan' \(known: .*annual_plan"):
        spec.load("anual_plan")
    with pytest.raises(TemplateError, match=r"no template 'anual_plan' \(known: .*annual_plan"):
        spec.parameters("anual_plan")
    with pytest.raises(TemplateError, match=r"annual_plan has no parameter 'region' \(known: "):
        spec.check_parameters("annual_plan", {"region": ["A"]})


TYPED = "params:\n  rows: 3\n  share: 0.5\n  shown: true\n  team: ''\n  regions: null\n---\nid: typed\n"


@pytest.mark.parametrize("key, value, message", [
    ("rows", "many", r"typed: the parameter 'rows' must be a whole number, found 'many'"),
    ("rows", 2.5, r"'rows' must be a whole number, found 2\.5"),
    ("rows", True, r"'rows' must be a whole number, found True"),
    ("rows", float("inf"), r"'rows' must be a whole number, found inf"),  # JSON's Infinity, or 1e400
    ("rows", float("nan"), r"'rows' must be a whole number, found nan"),
    ("rows", 5000, r"'rows' is 5,000, outside 0–1,000 \(the most a plan holds\)"),
    ("rows", -1, r"'rows' is -1, outside 0–1,000"),
    ("share", "half", r"'share' must be a number, found 'half'"),
    ("shown", "yes", r"'shown' must be true or false, found 'yes'"),
    ("team", ["Sales", "Ops"], r"'team' must be a short text, found \['Sales', 'Ops'\]"),
    ("team", "x" * 201, r"'team' must be a short text"),
    ("regions", [[[[["A"]]]]], r"'regions' nests too deep"),
    ("regions", ["x" * 201], r"'regions' holds a text that is too long"),
    ("regions", [1e16], r"'regions' holds a number that is too large"),
    ("regions", list(range(201)), r"'regions' holds 201 items, over 200"),
])
def test_a_parameter_of_another_type_than_declared_is_refused_naming_it(folder, key, value, message):
    """--param and a data file's params take the type of the parameter's default, as the reader
    checks a workbook's record (a workbook `new` makes is one the reader accepts)."""
    write(folder, "typed", TYPED)
    with pytest.raises(TemplateError, match=message):
        spec.check_parameters("typed", {key: value})


def test_parameters_that_fit_are_given_as_declared(folder):
    write(folder, "typed", TYPED)
    given = {"rows": 20.0, "share": 3, "shown": False, "team": "Sales", "regions": ["A", "B"], "year": 2027}
    fitted = spec.check_parameters("typed", given)
    assert fitted == given and type(fitted["rows"]) is int


OTHER_TESTS = {"load_file": 1, "load": 1, "parameters": 1, "check_parameters": 2}  # the tests above


def test_every_template_error_of_spec_py_has_a_case_here():
    raises: dict[str, int] = {}
    for function in ast.walk(ast.parse(inspect.getsource(spec))):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)
                        and getattr(node.exc.func, "id", None) == "TemplateError"):
                    raises[function.name] = raises.get(function.name, 0) + 1
    cases = dict(OTHER_TESTS)
    for covered, *_ in CASES + FILE_CASES:
        cases[covered] = cases.get(covered, 0) + 1
    missing = {name: (n, cases.get(name, 0)) for name, n in raises.items() if cases.get(name, 0) < n}
    assert not missing, f"spec.py functions with more TemplateErrors than cases here (raises, cases): {missing}"


def test_the_check_kinds_a_template_may_declare_are_the_kinds_the_checks_run():
    assert set(spec.CHECK_KINDS) == set(checks.TEMPLATE_CHECKS)


def test_a_number_measured_in_its_rows_unit_names_the_measure_in_its_table():
    definition = copy.deepcopy(valid())
    measured(definition)
    template = spec.build(definition, "small.yaml")
    assert template.blocks["actions.count"].measure == "actions.shown_in"
    assert template.blocks["actions.shown_in"].unit == "measure"


def test_every_template_reads_alike_with_libyaml_and_pure_python(monkeypatch):
    """spec reads definitions with libyaml's parser when PyYAML has it: the same data as PyYAML's own."""
    import yaml

    texts: list[str] = []
    parse = spec._yaml
    monkeypatch.setattr(spec, "_yaml", lambda text, where: texts.append(text) or parse(text, where))
    spec._rendered.cache_clear()
    spec._built.cache_clear()
    for template_id in spec.available():
        for lang in ("zh-Hans", "zh-Hant", "en"):
            spec.load(template_id, {"lang": lang})
    assert len(texts) >= len(spec.available())
    for text in texts:
        assert yaml.load(text, Loader=spec.SAFE_LOADER) == yaml.safe_load(text)


def test_the_template_folders_are_listed_again_only_when_they_change(tmp_path, monkeypatch):
    monkeypatch.setenv("XLPLAN_TEMPLATES", str(tmp_path))
    shipped = spec.available()["annual_plan"]
    (tmp_path / "mine.yaml").write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    assert "mine" in spec.available()  # added a moment ago: seen at once
    past = tmp_path.stat().st_mtime - 60
    os.utime(tmp_path, (past, past))
    listed = []
    glob = Path.glob
    monkeypatch.setattr(Path, "glob", lambda self, pattern: listed.append(self) or glob(self, pattern))
    assert spec.available() == spec.available() and "mine" in spec.available()
    assert listed.count(tmp_path) <= 1  # unchanged folders: listed once for the three calls
    (tmp_path / "mine.yaml").rename(tmp_path / "yours.yaml")  # the folder changes
    found = spec.available()
    assert "yours" in found and "mine" not in found
