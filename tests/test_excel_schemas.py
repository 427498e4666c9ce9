"""The add-in's manifest and custom-functions metadata against Microsoft's schemas.

The manifest is validated with lxml against the OfficeApp 1.1 XSDs vendored in
tests/schemas/office (with the runtime types added: see tests/schemas/README.md), the
metadata the server serves with jsonschema against tests/schemas/custom-functions.schema.json.
Each check is shown to fail on a manifest or metadata that breaks the schema.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from lxml import etree

from xlplan.excel import manifest, use_development_license

use_development_license()  # xlwings' free noncommercial key: tests only

import jsonschema  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from xlplan.excel.server import Settings, create_app  # noqa: E402

SCHEMAS = Path(__file__).resolve().parent / "schemas"
URL = "https://plan.example.com:8443"


@pytest.fixture(scope="module")
def xsd():
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "office" / "OfficeAppManifestV1_1.xsd")))


def errors(xsd, xml: str) -> list[str]:
    xsd.validate(etree.fromstring(xml.encode("utf-8")))
    return [f"line {e.line}: {e.message}" for e in xsd.error_log]


def test_the_manifest_is_valid_against_office_s_xsds(xsd):
    assert errors(xsd, manifest.render(URL)) == []
    assert errors(xsd, manifest.render(URL, name="计划 <xlplan> & co", group="規劃")) == []


@pytest.mark.parametrize("breakage, expected", [
    (lambda x: x.replace('lifetime="long"', 'lifetime="forever"'), "lifetime"),
    (lambda x: x.replace("<Permissions>ReadWriteDocument</Permissions>", ""), "Permissions"),
    (lambda x: x.replace('<Host xsi:type="Workbook">', '<Host xsi:type="Spreadsheet">'), "Spreadsheet"),
    (lambda x: x.replace("<Label resid=\"Tab.Label\" />", ""), "Label"),
    (lambda x: x.replace('<Version>', '<Version>v'), "Version"),
], ids=["runtime-lifetime", "no-permissions", "unknown-host", "tab-without-label", "bad-version"])
def test_the_xsds_refuse_a_broken_manifest(xsd, breakage, expected):
    found = errors(xsd, breakage(manifest.render(URL)))
    assert found and any(expected in e for e in found), found


@pytest.fixture(scope="module")
def metadata(tmp_path_factory):
    folder = tmp_path_factory.mktemp("meta")
    server = TestClient(create_app(Settings(tokens=folder / "t.json", inbox=folder / "inbox")))
    return server.get("/xlwings/custom-functions-meta").json()


@pytest.fixture(scope="module")
def schema():
    return json.loads((SCHEMAS / "custom-functions.schema.json").read_text(encoding="utf-8"))


def test_the_functions_metadata_is_valid_against_its_schema(metadata, schema):
    jsonschema.validate(metadata, schema)
    assert metadata["allowErrorForDataTypeAny"] is True  # error cells reach the functions
    assert len(metadata["functions"]) == 8


@pytest.mark.parametrize("breakage", [
    lambda m: m["functions"][0].update(id="HEADCOUNT-ROLLFORWARD"),
    lambda m: m["functions"][0]["result"].update(dimensionality="vector"),
    lambda m: m["functions"][0]["parameters"][0].update(optinal=True),
    lambda m: m["functions"][0].pop("parameters"),
], ids=["id-with-dash", "bad-dimensionality", "misspelt-property", "no-parameters"])
def test_the_schema_refuses_broken_metadata(metadata, schema, breakage):
    broken = copy.deepcopy(metadata)
    breakage(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)
