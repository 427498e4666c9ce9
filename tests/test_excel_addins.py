"""The two add-ins as Office would load them: the manifest, and the desktop .xlam.

test_excel_schemas.py validates the manifest against Office's XSDs; here are the rules
Office applies that an XSD does not express: every resource id defined once and every
reference resolved, unique control ids, lengths, a GUID, and every URL https on the
configured host.
"""
from __future__ import annotations

import hashlib
import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from xlplan.cli import app as cli
from xlplan.excel import desktop, manifest
from xlplan.excel.icons import GLYPHS, SIZES

URL = "https://plan.example.com:8443"
NS = {"o": "http://schemas.microsoft.com/office/appforoffice/1.1",
      "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
      "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides"}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
ORDER = ["Id", "Version", "ProviderName", "DefaultLocale", "DisplayName", "Description", "IconUrl",
         "HighResolutionIconUrl", "SupportUrl", "AppDomains", "Hosts", "Requirements", "DefaultSettings",
         "Permissions", "VersionOverrides"]


@pytest.fixture(scope="module")
def root():
    result = CliRunner().invoke(cli, ["addin", "manifest", "--url", URL + "/"])
    assert result.exit_code == 0, result.output
    return ET.fromstring(result.stdout.encode("utf-8"))


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def test_manifest_is_an_office_app_1_1_in_schema_order(root):
    assert root.tag == f"{{{NS['o']}}}OfficeApp"
    assert root.get(XSI_TYPE) == "TaskPaneApp"
    assert [local(child.tag) for child in root] == ORDER
    uuid.UUID(root.find("o:Id", NS).text)
    assert re.fullmatch(r"\d+(\.\d+){0,3}", root.find("o:Version", NS).text)
    assert root.find("o:Hosts/o:Host", NS).get("Name") == "Workbook"


def test_every_resource_is_defined_once_and_every_reference_resolves(root):
    overrides = root.find("ov:VersionOverrides", NS)
    resources = overrides.find("ov:Resources", NS)
    kinds = {"bt:Images": "bt:Image", "bt:Urls": "bt:Url", "bt:ShortStrings": "bt:String",
             "bt:LongStrings": "bt:String"}
    defined: dict[str, str] = {}
    for group, item in kinds.items():
        for element in resources.findall(f"{group}/{item}", NS):
            rid = element.get("id")
            assert rid not in defined, f"{rid} defined twice"
            assert len(rid) <= 32
            defined[rid] = group
            limit = {"bt:ShortStrings": 125, "bt:LongStrings": 250}.get(group, 2048)
            assert len(element.get("DefaultValue")) <= limit, rid
    expected_kind = {"Image": "bt:Images", "Label": "bt:ShortStrings", "Title": "bt:ShortStrings",
                     "Description": "bt:LongStrings", "Namespace": "bt:ShortStrings",
                     "SourceLocation": "bt:Urls", "Runtime": "bt:Urls", "FunctionFile": "bt:Urls",
                     "LearnMoreUrl": "bt:Urls"}
    referenced = set()
    for element in overrides.iter():
        rid = element.get("resid")
        if rid is None:
            continue
        referenced.add(rid)
        assert rid in defined, f"{local(element.tag)} refers to undefined {rid}"
        assert defined[rid] == expected_kind[local(element.tag)], f"{rid} is a {defined[rid]}"
    assert referenced == set(defined), f"defined but unused: {set(defined) - referenced}"


def test_the_tab_has_unique_controls_and_the_client_handles_each_command(root):
    tab = root.find(".//ov:CustomTab", NS)
    controls = tab.findall(".//ov:Control", NS)
    ids = [c.get("id") for c in controls] + [tab.get("id")] + [g.get("id") for g in tab.findall("ov:Group", NS)]
    assert len(ids) == len(set(ids))
    functions = [c.find("ov:Action/ov:FunctionName", NS).text for c in controls
                 if c.find("ov:Action", NS).get(XSI_TYPE) == "ExecuteFunction"]
    assert functions == ["recalculate", "check", "submit"]
    client = (manifest.TEMPLATES.parent / "static" / "xlplan.js").read_text(encoding="utf-8")
    assert re.search(r'for \(const name of \["recalculate", "check", "submit"\]\)', client)
    assert 'Office.actions.associate(name' in client
    labels = {s.get("id"): s.get("DefaultValue") for s in root.iterfind(".//bt:ShortStrings/bt:String", NS)}
    assert labels["Tab.Label"] == "xlplan"
    assert [labels[f"Btn.{n}.Label"] for n in functions] == ["Recalculate", "Check", "Submit"]


def test_the_add_in_commands_follow_the_version_overrides_schema_order(root):
    """Sequences from TaskPaneAppVersionOverridesV1_0.xsd (read, not shipped: no package has it)."""
    host = root.find("ov:VersionOverrides/ov:Hosts/ov:Host", NS)
    desktop_ff = host.find("ov:DesktopFormFactor", NS)
    assert [local(c.tag) for c in desktop_ff] == ["GetStarted", "FunctionFile", "ExtensionPoint"]
    functions_ep = host.find("ov:AllFormFactors/ov:ExtensionPoint", NS)
    assert functions_ep.get(XSI_TYPE) == "CustomFunctions"
    assert [local(c.tag) for c in functions_ep] == ["Script", "Page", "Metadata", "Namespace"]
    tab = desktop_ff.find("ov:ExtensionPoint/ov:CustomTab", NS)
    assert [local(c.tag) for c in tab] == ["Group", "Label"]
    group = tab.find("ov:Group", NS)
    tags = [local(c.tag) for c in group]
    assert tags[:2] == ["Label", "Icon"] and set(tags[2:]) == {"Control"}
    for control in group.findall("ov:Control", NS):
        assert [local(c.tag) for c in control] == ["Label", "Supertip", "Icon", "Action"]
        assert [local(c.tag) for c in control.find("ov:Supertip", NS)] == ["Title", "Description"]
        assert sorted(int(i.get("size")) for i in control.find("ov:Icon", NS)) == [16, 32, 80]


def test_every_url_is_https_on_the_configured_host(root):
    host = urlsplit(URL)
    urls = [e.get("DefaultValue") for e in root.iter() if e.get("DefaultValue", "").startswith(("http:", "https:"))]
    urls += [e.text for e in root.iter() if local(e.tag) == "AppDomain"]
    assert len(urls) > 10
    for url in urls:
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", host.netloc), url
    icons = [e.get("DefaultValue") for e in root.iterfind(".//bt:Images/bt:Image", NS)]
    icons += [root.find(f"o:{tag}", NS).get("DefaultValue") for tag in ("IconUrl", "HighResolutionIconUrl")]
    for url in icons:
        name, size = re.fullmatch(r".*/static/icon-([a-z]+)-(\d+)\.png", url).groups()
        assert name in GLYPHS and int(size) in SIZES


def test_plain_http_and_odd_urls_are_refused():
    for url in ("http://plan.example.com", "plan.example.com", "https://", "https://x.example.com/?a=1"):
        result = CliRunner().invoke(cli, ["addin", "manifest", "--url", url])
        assert result.exit_code == 2, url
        assert "https" in result.output or "query" in result.output


def test_the_same_server_always_gets_the_same_add_in_id():
    assert manifest.render(URL) == manifest.render(URL + "/")
    assert manifest.addin_id(URL) != manifest.addin_id("https://other.example.com")


def test_icons_are_pngs_of_their_size():
    from xlplan.excel.icons import png

    for name in GLYPHS:
        for size in SIZES:
            data = png(name, size)
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            assert int.from_bytes(data[16:20], "big") == size == int.from_bytes(data[20:24], "big")


# -- the desktop .xlam ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def xlam(tmp_path_factory):
    out = tmp_path_factory.mktemp("addin") / "xlplan_addin.xlam"
    result = CliRunner().invoke(cli, ["addin", "desktop", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def test_the_xlam_keeps_xlwings_vba_and_carries_the_xlplan_ribbon(xlam):
    with zipfile.ZipFile(xlam) as zf, zipfile.ZipFile(desktop.source_xlam()) as original:
        assert zf.testzip() is None
        vba = zf.read("xl/vbaProject.bin")
        assert hashlib.sha256(vba).digest() == hashlib.sha256(original.read("xl/vbaProject.bin")).digest()
        assert "customUI/customUI.xml" not in zf.namelist()
        rels = ET.fromstring(zf.read("_rels/.rels"))
        ribbon_rels = [r for r in rels if r.get("Type", "").endswith("/ui/extensibility")]
        assert [(r.get("Type"), r.get("Target")) for r in ribbon_rels] == [(desktop.REL_TYPE, desktop.CUSTOM_UI)]
        ui = ET.fromstring(zf.read(desktop.CUSTOM_UI))
        # every part the original had is still there (only the ribbon part changed its name)
        assert set(original.namelist()) - {"customUI/customUI.xml"} <= set(zf.namelist())
    ns = {"c": desktop.NS_CUSTOM_UI}
    assert ui.tag == f"{{{desktop.NS_CUSTOM_UI}}}customUI"
    tab = ui.find("c:ribbon/c:tabs/c:tab", ns)
    assert tab.get("label") == "xlplan"
    buttons = tab.findall("c:group/c:button", ns)
    assert [b.get("label") for b in buttons] == ["Recalculate"]
    # the one callback the shipped VBA has: RibbonMyAddin.RunMain runs <file name>.main()
    assert {b.get("onAction") for b in buttons} == {"RibbonMyAddin.RunMain"}
    assert "R\x00i\x00b\x00b\x00o\x00n\x00M\x00y\x00A\x00d\x00d\x00i\x00n".encode("latin-1") in vba


def test_the_module_runmain_imports_sits_beside_the_xlam(xlam):
    module = xlam.with_suffix(".py")
    assert module.exists()
    source = module.read_text(encoding="utf-8")
    compile(source, str(module), "exec")
    assert "from xlplan.excel.desktop import main" in source and "register(globals())" in source


def test_desktop_parts_need_no_xlwings_license(xlam):
    """Classic xlwings (BSD) runs the desktop add-in: only the server needs xlwings' PRO key."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XLWINGS_LICENSE_KEY"}
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import xlplan_addin as m; "
            "print(m.XLPLAN_PRODUCTIVITY(900, 2400), m.XLPLAN_BUDGET_AMOUNT(200, 80, 4), callable(m.main))")
    run = subprocess.run([sys.executable, "-c", code, str(xlam.parent)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["3750.0", "64000", "True"]


def test_the_readme_s_desktop_settings_are_those_of_the_shipped_add_in(xlam):
    """The add-in's VBA (xlwings' custom add-in) reads %USERPROFILE%\\.<PROJECT_NAME>\\<PROJECT_NAME>.conf,
    and its settings sheet is named after PROJECT_NAME: the shipped one is 'myaddin'."""
    import xlwings

    with zipfile.ZipFile(xlam) as zf:
        workbook = zf.read("xl/workbook.xml").decode("utf-8")
        keys = zf.read("xl/sharedStrings.xml").decode("utf-8")
    assert f'<sheet name="{desktop.SETTINGS_SHEET}"' in workbook
    for key in ("Interpreter_Win", "PYTHONPATH", "UDF Modules", "Conda Path", "Conda Env"):
        assert f"<t>{key}</t>" in keys
    bas = (Path(xlwings.__file__).parent / "xlwings_custom_addin.bas").read_text(encoding="utf-8", errors="replace")
    assert 'Environ("USERPROFILE") & "\\." & PROJECT_NAME & "\\" & PROJECT_NAME & ".conf"' in bas
    assert desktop.SETTINGS_FILE == r"%USERPROFILE%\.myaddin\myaddin.conf"
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert desktop.SETTINGS_FILE in readme and "xlplan_addin.py" in readme


def test_the_xlam_name_must_be_an_importable_module_other_than_xlplan(tmp_path):
    for name in ("xlplan.xlam", "my-addin.xlam", "addin.xlsm"):
        result = CliRunner().invoke(cli, ["addin", "desktop", "-o", str(tmp_path / name)])
        assert result.exit_code == 2, name


# -- the JavaScript Office runs: tests/js (run by test_excel_js.py) drives it in a fake Office.js;
# here only that it parses -----------------------------------------------------------------------
@pytest.mark.skipif(not __import__("shutil").which("node"), reason="node is not installed")
def test_the_client_js_parses():
    import subprocess

    client = manifest.TEMPLATES.parent / "static" / "xlplan.js"
    run = subprocess.run(["node", "--check", str(client)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
