"""HQ's web page: status, review (approve / return with comments), diff, plan vs actual.

Mounted at /hq by `xlplan serve --db URL` when an HQ password is configured
(`XLPLAN_HQ_PASSWORD`, or `--hq-password-file`). It is separate from the units'
tokens: a unit token opens nothing here and this login opens none of the add-in's API.

- Login: the reviewer's name and HQ's password; the session is a random id in a cookie
  (HttpOnly, SameSite=Strict, Secure over https) kept in this process for 12 hours.
- Every POST carries the session's CSRF token (a hidden field) and, when the browser
  sends one, an Origin equal to this server's; anything else is refused (403).
- Decisions go through review.py, so the log is appended to and never changed; no
  route here updates or deletes anything.
- Pages print on A4 (forms and navigation are left off paper).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import texts
from ..model import XlplanError
from . import consolidate, diff as diff_module, report, review, svg
from .store import Store

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "xlplan_hq"
SESSION_SECONDS = 12 * 3600


@dataclass
class Session:
    reviewer: str
    csrf: str
    started: float = field(default_factory=time.time)


def password_digest(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def create_app(store: Store | str, password: str, lang: str = texts.DEFAULT, basis: str = "approved") -> FastAPI:
    """The HQ app; `password` is HQ's shared password (only its digest is kept)."""
    if not password:
        raise XlplanError("HQ's web page needs a password (XLPLAN_HQ_PASSWORD or --hq-password-file)")
    store = Store(store) if isinstance(store, str) else store
    wanted = password_digest(password)
    lang = texts.language(lang)
    sessions: dict[str, Session] = {}
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE)), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    page = env.get_template("web.html.j2")
    app = FastAPI(title="xlplan HQ", docs_url=None, redoc_url=None, openapi_url=None)

    def t(key: str, **kw) -> str:
        value = texts.t(key, lang)
        return value.format(**kw) if kw else value

    def base(request: Request) -> str:
        return request.scope.get("root_path", "").rstrip("/")

    def session_of(request: Request) -> Session | None:
        sid = request.cookies.get(SESSION_COOKIE, "")
        s = sessions.get(sid)
        if s is None or time.time() - s.started > SESSION_SECONDS:
            sessions.pop(sid, None)
            return None
        return s

    def need(request: Request) -> Session:
        s = session_of(request)
        if s is None:
            raise _Login()
        return s

    def posted(request: Request, csrf: str) -> Session:
        """A POST from this site's own form: a session, its CSRF token, and no foreign Origin."""
        s = session_of(request)
        if s is None:
            raise HTTPException(403, "not logged in")
        origin = request.headers.get("origin")
        if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
            raise HTTPException(403, "the form came from another site")
        if not hmac.compare_digest(csrf or "", s.csrf):
            raise HTTPException(403, "the form is out of date: reload the page")
        return s

    def render(request: Request, view: str, s: Session | None, status_code: int = 200, **context) -> HTMLResponse:
        html = page.render(view=view, base=base(request), session=s, t=t, lang=lang, chart=svg.chart,
                           label=report.label, review_label=review_label, num=_num, shown=diff_module.shown,
                           quote=quote, **context)
        return HTMLResponse(html, status_code=status_code,
                            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                                                                "img-src 'self' data:; form-action 'self'; "
                                                                "frame-ancestors 'none'",
                                     "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"})

    def review_label(state):
        return report.review_label(state, lang) if state else ""

    @app.exception_handler(_Login)
    async def to_login(request: Request, exc: _Login):
        return RedirectResponse(f"{base(request)}/login", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request):
        return render(request, "login", None, error=None)

    @app.post("/login")
    def login(request: Request, reviewer: str = Form(""), password: str = Form("")):
        if not reviewer.strip() or not hmac.compare_digest(password_digest(password), wanted):
            return render(request, "login", None, status_code=401, error=t("w_login_failed"))
        sid = secrets.token_urlsafe(32)
        sessions[sid] = Session(reviewer.strip()[:100], secrets.token_urlsafe(32))
        response = RedirectResponse(f"{base(request)}/", status_code=303)
        response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict", max_age=SESSION_SECONDS,
                            secure=request.url.scheme == "https", path=base(request) or "/")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        posted(request, csrf)
        sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
        response = RedirectResponse(f"{base(request)}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=base(request) or "/")
        return response

    @app.get("/", response_class=HTMLResponse)
    def status_page(request: Request):
        s = need(request)
        st = report.status(store, basis=basis)
        states = store.states()
        return render(request, "status", s, st=st, states=states)

    @app.get("/submission/{sid}", response_class=HTMLResponse)
    def submission_page(request: Request, sid: int, error: str | None = None):
        s = need(request)
        sub = store.submission(sid)
        if sub is None or sub["unit"] is None:
            raise HTTPException(404, "no such submission")
        versions = diff_module.versions(store, sub["unit"], sub["template"], sub["period"])
        events = store.review_events(sid)
        return render(request, "submission", s, sub=sub, findings=store.findings_of(sid), events=events,
                      state=events[-1]["state"] if events else None, versions=versions, error=error,
                      comments_of=review.comments_of)

    def decided(request: Request, sid: int, action):
        sub = store.submission(sid)
        if sub is None or sub["unit"] is None:
            raise HTTPException(404, "no such submission")
        try:
            action(sub)
        except XlplanError as exc:
            return RedirectResponse(f"{base(request)}/submission/{sid}?error={quote(str(exc))}", status_code=303)
        return RedirectResponse(f"{base(request)}/submission/{sid}", status_code=303)

    @app.post("/submission/{sid}/approve")
    def approve(request: Request, sid: int, csrf: str = Form(""), note: str = Form("")):
        s = posted(request, csrf)
        return decided(request, sid, lambda sub: review.approve(store, sub, s.reviewer, note))

    @app.post("/submission/{sid}/return")
    def return_(request: Request, sid: int, csrf: str = Form(""), note: str = Form(""),
                comments: str = Form("")):
        s = posted(request, csrf)

        def act(sub):
            parsed = [review.parse_comment(line) for line in comments.splitlines() if line.strip()]
            review.return_(store, sub, s.reviewer, note, parsed)
        return decided(request, sid, act)

    @app.get("/submission/{sid}/returned.xlsx")
    def returned_file(request: Request, sid: int):
        need(request)
        sub = store.submission(sid)
        decision = review.last_decision(store, sid) if sub else None
        if sub is None or decision is None or decision["state"] != "returned":
            raise HTTPException(404, "this submission was not returned")
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = review.returned_workbook(store, sub, decision, Path(tmp) / "returned.xlsx")
            data = path.read_bytes()
        name = quote(f"{Path(sub['source']).stem}-{texts.t('w_returned_suffix', lang)}.xlsx")
        return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})

    @app.get("/diff/{sid}", response_class=HTMLResponse)
    def diff_page(request: Request, sid: int, old: int | None = None, new: int | None = None):
        s = need(request)
        sub = store.submission(sid)
        if sub is None or sub["unit"] is None:
            raise HTTPException(404, "no such submission")
        try:
            a, b = diff_module.pick(store, sub["unit"], old, new if new is not None else sub["version"],
                                    sub["template"], sub["period"])
        except XlplanError as exc:
            return render(request, "diff", s, sub=sub, d=None, error=str(exc), versions=[])
        versions = diff_module.versions(store, sub["unit"], sub["template"], sub["period"])
        return render(request, "diff", s, sub=sub, d=diff_module.compare(store, a, b), error=None,
                      versions=versions)

    @app.get("/plan", response_class=HTMLResponse)
    def plan_page(request: Request, use: str = basis):
        s = need(request)
        use = use if use in consolidate.BASES else basis
        return render(request, "plan", s, tables=consolidate.tables(store, lang, use), use=use)

    return app


class _Login(Exception):
    """No session: the browser is sent to the login form."""


def _num(v, fmt: str = "") -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return str(v)
    if "%" in fmt:
        return f"{v:.1%}"
    if v == int(v) and abs(v) < 1e15:
        return f"{int(v):,}"
    return f"{v:,.2f}"
