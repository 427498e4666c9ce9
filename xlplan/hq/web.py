"""HQ's web page: status, review (approve / return with comments), diff, plan vs actual.

Mounted at /hq by `xlplan serve --db URL`. It is separate from the units' tokens: a
unit token opens nothing here and this login opens none of the add-in's API.

- Login: a reviewer's name and own password (accounts made with `xlplan hq-user add`,
  accounts.py); the review log records that name. Without any account, HQ's shared
  password (`XLPLAN_HQ_PASSWORD` or `--hq-password-file`) with the name typed at login.
- The session is a random value in a cookie (HttpOnly, SameSite=Strict, Secure over
  https); the store keeps its hash for 12 hours, so it outlives a restart of the server.
- Every POST carries the session's CSRF token (a hidden field) and, when the browser
  sends one, an Origin equal to this server's; anything else is refused (403).
- Decisions go through review.py, so the log is appended to and never changed; no
  route here updates or deletes anything.
- Pages print on A4 (forms and navigation are left off paper).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .. import texts
from ..model import XlplanError
from ..template import styles
from . import accounts, consolidate, diff as diff_module, report, review, svg
from .accounts import Session
from .store import Store

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "xlplan_hq"
SESSION_SECONDS = accounts.SESSION_HOURS * 3600


def password_digest(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def create_app(store: Store | str, password: str | None = None, lang: str = texts.DEFAULT,
               basis: str = "approved", zone: dt.tzinfo | None = None) -> FastAPI:
    """The HQ app. Reviewers log in with their accounts; `password` is HQ's shared password,
    used only while HQ has no accounts (only its digest is kept). Times are shown in `zone`
    (`report.time_zone("Asia/Taipei")`; None: the machine's), which the pages name."""
    store = Store(store) if isinstance(store, str) else store
    wanted = password_digest(password) if password else None
    lang = texts.language(lang)
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
        return accounts.session(store, request.cookies.get(SESSION_COOKIE, ""))

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

    names: dict[str, str] = {}

    def template_name(template_id: str) -> str:
        if template_id not in names:
            names[template_id] = report.template_name(template_id, lang)
        return names[template_id]

    def render(request: Request, view: str, s: Session | None, status_code: int = 200, **context) -> HTMLResponse:
        html = page.render(view=view, base=base(request), session=s, t=t, lang=lang, chart=svg.chart,
                           template_name=template_name, zone=report.zone_name(zone),
                           when=lambda moment: report.local_time(moment, zone),
                           label=report.label, review_label=review_label, num=styles.shown, shown=diff_module.shown,
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

    def authenticated(reviewer: str, password: str, have_accounts: bool) -> str | None:
        """The reviewer's name as the log will record it, or None."""
        if have_accounts:
            return accounts.check(store, reviewer, password)
        if wanted and reviewer.strip() and hmac.compare_digest(password_digest(password), wanted):
            return reviewer.strip()[:accounts.MAX_NAME]
        return None

    @app.post("/login")
    def login(request: Request, reviewer: str = Form(""), password: str = Form("")):
        have_accounts = accounts.any_accounts(store)  # asked once: it decides the check and the message
        name = authenticated(reviewer, password, have_accounts)
        if name is None:
            error = t("w_login_failed") if wanted or have_accounts else t("w_no_accounts")
            return render(request, "login", None, status_code=401, error=error)
        s = accounts.start_session(store, name)
        response = RedirectResponse(f"{base(request)}/", status_code=303)
        response.set_cookie(SESSION_COOKIE, s.key, httponly=True, samesite="strict", max_age=SESSION_SECONDS,
                            secure=request.url.scheme == "https", path=base(request) or "/")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")):
        posted(request, csrf)
        accounts.end_session(store, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse(f"{base(request)}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=base(request) or "/")
        return response

    @app.get("/", response_class=HTMLResponse)
    def status_page(request: Request):
        s = need(request)
        st = report.status(store, basis=basis, zone=zone)
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
