"""The Office add-in manifest: the xlplan tab, its buttons and icons, the server's URL."""
from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from .. import __version__
from ..model import XlplanError

TEMPLATES = Path(__file__).parent / "templates"
NAMESPACE = "XLPLAN"


class BadUrl(XlplanError, ValueError):
    """The add-in's URL is not one Office accepts: it must be https://host[:port]."""


BUTTONS = (
    {"id": "recalculate", "label": "Recalculate", "icon": "recalculate",
     "tip": "Recompute every block with xlplan, refresh the Checks sheet and mark the cells with findings."},
    {"id": "check", "label": "Check", "icon": "check",
     "tip": "List every finding on the Checks sheet and mark its cell; values stay as they are."},
    {"id": "submit", "label": "Submit", "icon": "submit",
     "tip": "Send this plan to HQ and show the receipt."},
    {"id": "taskpane", "label": "Task pane", "icon": "taskpane", "taskpane": True,
     "tip": "Open the xlplan task pane: sign in with your unit's token, see messages."},
)


def base_url(url: str) -> str:
    """`url` checked and without a trailing slash: Office loads add-ins over https only."""
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise BadUrl(f"--url {url!r}: Office loads add-ins only from https://host[:port]")
    if parts.query or parts.fragment:
        raise BadUrl(f"--url {url!r}: give the server's base URL, without ?query or #fragment")
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def addin_id(url: str) -> str:
    """A stable GUID per server URL: the same server always gives the same add-in id."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xlplan-addin:{url}"))


def version_of(package_version: str) -> str:
    """Office wants n.n.n.n; drop anything after the numbers ("0.1.0.dev1" → "0.1.0.0")."""
    numbers = []
    for part in package_version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit()) if part[:1].isdigit() else ""
        if not digits:
            break
        numbers.append(str(int(digits)))
    return ".".join((numbers + ["0"] * 4)[:4])


def render(url: str, name: str = "xlplan", provider: str = "xlplan", group: str = "Planning",
           guid: str | None = None) -> str:
    base = base_url(url)
    from .icons import NAMES

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.get_template("manifest.xml.j2").render(
        addin_id=guid or addin_id(base), version=version_of(__version__), provider=provider, name=name,
        description="Planning in Excel: recalculate, check and submit your unit's plan; xlplan functions in cells.",
        base_url=base, namespace=NAMESPACE, group=group, buttons=BUTTONS, icons=NAMES)
