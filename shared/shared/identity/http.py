"""The FastAPI side of identity: the dependency each route declares its role with, the session
cookies, and the middleware that adds rate-limit fields and renewed sessions to answers.

A route says ``dependencies=[access(Role.EDITOR, "ingest")]`` (or ``access(READ, "search")``
for a read); ``route_roles(app)`` reads those declarations back for the OpenAPI document
(``x-required-role``) and the README's role table, so the three never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.catalog.db import Catalog
from shared.config import ApiSettings
from shared.identity.keys import KeyStore
from shared.identity.ratelimit import RateLimiter
from shared.identity.roles import Principal, Role
from shared.identity.sessions import SessionTokens
from shared.identity.users import UserStore
from shared.identity.verifier import Verifier
from shared.openapi import problems

SESSION_COOKIE = "isk_session"
CSRF_COOKIE = "isk_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
READ: None = None  # access(READ): a viewer, or anyone when reads are public
PUBLIC_READ_ROLE = "viewer (anyone if AUTH__PUBLIC_READ)"

_bearer = HTTPBearer(
    auto_error=False, scheme_name="apiKey", description="An API key: `Bearer isk_…`"
)
_session = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description=f"The page's session (POST /api/v1/auth/login); unsafe requests also send "
    f"the `{CSRF_COOKIE}` cookie's value in `{CSRF_HEADER}`.",
)


@dataclass(frozen=True)
class Identity:
    """One API process's verifier, rate limiter and cookie policy."""

    verifier: Verifier
    limiter: RateLimiter
    cookie_secure: bool


def identity_of(request: Request) -> Identity:
    identity: Identity = request.app.state.identity()
    return identity


def client_address(request: Request) -> str:
    """The client's address; behind the front door uvicorn takes it from X-Forwarded-For."""
    return request.client.host if request.client else "unknown"


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: Annotated[str | None, Depends(_session)],
) -> Principal | None:
    verifier = identity_of(request).verifier
    token = bearer.credentials if bearer else None
    principal = None
    if token or session:  # a lookup; an anonymous request needs no thread hop
        principal = await run_in_threadpool(verifier.principal, token, session)
    request.state.principal = principal
    return principal


def access(needed: Role | None, rate_class: str | None = None) -> Any:
    """The dependency a route declares: who may call it and which rate limit counts the call.
    A credential's lookup and the decision take one thread hop (the catalog is synchronous);
    the count is one Redis round trip on the event loop."""

    async def check(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        session: Annotated[str | None, Depends(_session)],
    ) -> Principal | None:
        identity = identity_of(request)
        token = bearer.credentials if bearer else None
        csrf = request.headers.get(CSRF_HEADER)
        unsafe = request.method in UNSAFE_METHODS
        address = client_address(request)

        def decide() -> Principal | None:
            principal = identity.verifier.principal(token, session)
            identity.verifier.authorize(principal, needed, unsafe, csrf)
            return principal

        # nothing to look up (anonymous): no thread hop
        principal = await run_in_threadpool(decide) if token or session else decide()
        if rate_class:
            key = principal.rate_key if principal else f"addr:{address}"
            request.state.rate_headers = await identity.limiter.hit(rate_class, key)
        request.state.principal = principal
        await renew_if_due(request, principal)
        return principal

    check.needed_role = needed  # type: ignore[attr-defined]
    check.rate_class = rate_class  # type: ignore[attr-defined]
    return Depends(check)


async def renew_if_due(request: Request, principal: Principal | None) -> Principal | None:
    """A page session past half its life is renewed: the answer will carry the fresh cookie
    (``install_identity``'s middleware) and this returns the renewed principal. Checked on the
    event loop first, so the usual request (a key, or a young session) costs no thread hop."""
    issued_at = principal.session_issued_at if principal else None
    verifier = identity_of(request).verifier
    if principal is None or issued_at is None or not verifier.sessions.wants_renewal(issued_at):
        return None
    request.state.renewal = await run_in_threadpool(verifier.renewal, principal)
    return request.state.renewal[1] if request.state.renewal else None


def set_session(response: Response, token: str, principal: Principal, secure: bool) -> None:
    max_age = (principal.session_expires_at or 0) - (principal.session_issued_at or 0)
    common: dict[str, Any] = {
        "max_age": max_age,
        "path": "/",
        "samesite": "strict",
        "secure": secure,
    }
    response.set_cookie(SESSION_COOKIE, token, httponly=True, **common)
    response.set_cookie(CSRF_COOKIE, principal.csrf or "", httponly=False, **common)


def clear_session(response: Response, secure: bool) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", samesite="strict", secure=secure)


def install_identity(app: FastAPI, identity: Callable[[], Identity]) -> None:
    """Put ``identity`` (the container's provider, so tests may override what it is built
    from) on the app, add its answers' headers, declare the roles in the OpenAPI document."""
    app.state.identity = identity
    app.add_middleware(IdentityHeadersMiddleware, identity=identity)
    _declare_roles(app)


class IdentityHeadersMiddleware:
    """Adds what ``access(...)`` left in the request's state to the answer's headers: the rate
    limit's fields, a renewed session's cookies, the end of a dead session. A plain ASGI
    middleware: it only edits the start of the answer, so it costs no task per request."""

    def __init__(self, app: ASGIApp, identity: Callable[[], Identity]) -> None:
        self.app = app
        self.identity = identity

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def send_with_identity(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(scope, state, message)
            await send(message)

        await self.app(scope, receive, send_with_identity)

    def _headers(self, scope: Scope, state: dict[str, Any], start: Message) -> list[Any]:
        headers = MutableHeaders(raw=list(start.get("headers", ())))
        for name, value in state.get("rate_headers", {}).items():
            headers[name] = value
        cookies = Response()
        if start["status"] == 401 and SESSION_COOKIE in Request(scope).cookies:
            clear_session(cookies, self.identity().cookie_secure)  # reads go on anonymous
        renewal = state.get("renewal")
        if renewal is not None and SESSION_COOKIE not in headers.get("set-cookie", ""):
            token, principal = renewal
            set_session(cookies, token, principal, self.identity().cookie_secure)
        return [*headers.raw, *(h for h in cookies.raw_headers if h[0] == b"set-cookie")]


def _access_check(dependant: Dependant) -> Any:
    """The ``access(...)`` check among a route's dependencies, or None."""
    for sub in dependant.dependencies:
        if sub.call is not None and hasattr(sub.call, "needed_role"):
            return sub.call
        if (found := _access_check(sub)) is not None:
            return found
    return None


def _declared(app: FastAPI) -> Iterator[tuple[str, str, Any]]:
    """(method, path, access check or None) of every API route in the schema."""
    for context in iter_route_contexts(app.routes):  # included routers' routes, with prefixes
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema or not context.path:
            continue
        check = _access_check(route.dependant)
        for method in sorted(context.methods or ()):
            yield method, context.path, check


def _who(check: Any) -> str:
    if check is None:
        return "anyone"
    return check.needed_role.value if check.needed_role else PUBLIC_READ_ROLE


def route_roles(app: FastAPI) -> list[tuple[str, str, str]]:
    """(method, path, who may call it) for every API route, as the routes declare it."""
    return [(method, path, _who(check)) for method, path, check in _declared(app)]


# What every route behind access(...) may answer besides its own responses.
REFUSALS = problems(401, 403)
RATE_LIMITED = problems(429)
# A read, or a route that only asks who calls, answers anonymous callers too.
ANONYMOUS: dict[str, list[str]] = {}


def _declare_roles(app: FastAPI) -> None:
    """The OpenAPI document says, for each route, who may call it and how it refuses."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for method, path, check in _declared(app):
                operation = schema["paths"].get(path, {}).get(method.lower())
                if operation is None:
                    continue
                operation["x-required-role"] = _who(check)
                if check is None or check.needed_role is READ:
                    _allow_anonymous(operation)
                if check is not None:
                    responses = operation.setdefault("responses", {})
                    responses.update(REFUSALS)
                    if check.rate_class:
                        responses.update(RATE_LIMITED)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _allow_anonymous(operation: dict[str, Any]) -> None:
    """A credential is optional here: declared, but so is calling with none."""
    security = operation.get("security")
    if security and ANONYMOUS not in security:
        security.append(ANONYMOUS)


def build_identity(settings: ApiSettings, catalog: Catalog) -> Identity:
    """The identity of one API process, from its settings (both APIs build it this way)."""
    sessions = SessionTokens(
        settings.auth.jwt_secret.get_secret_value(), settings.auth.session_ttl_s
    )
    verifier = Verifier(
        UserStore(catalog), KeyStore(catalog), sessions, public_read=settings.auth.public_read
    )
    limiter = RateLimiter(settings.rate_limit, settings.redis.url)
    return Identity(verifier, limiter, cookie_secure=settings.auth.cookie_secure)
