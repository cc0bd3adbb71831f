"""``/api/v1/auth``: the page signs in and out; anyone asks who they are."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.identity_models import LoginIn, MeOut, PasswordChange, SessionOut
from shared.errors import Forbidden, Unauthenticated
from shared.identity.http import (
    access,
    clear_session,
    client_address,
    current_principal,
    identity_of,
    renew_if_due,
    set_session,
)
from shared.identity.roles import Principal, Role
from shared.openapi import problems

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/login", response_model=SessionOut, responses=problems(401, 429))
async def login(body: LoginIn, request: Request, response: Response) -> SessionOut:
    """Sign in with a password: sets the session cookie (HttpOnly) and the CSRF cookie.

    Failed attempts are counted per username and per client address (rate class ``login``);
    once either window is full, every attempt is refused until it empties."""
    identity = identity_of(request)
    counted = (f"user:{body.username}", f"addr:{client_address(request)}")
    for key in counted:
        await identity.limiter.check("login", key)
    try:
        token, principal = await run_in_threadpool(
            identity.verifier.sign_in, body.username, body.password
        )
    except Unauthenticated:
        for key in counted:
            await identity.limiter.hit("login", key)
        raise
    set_session(response, token, principal, identity.cookie_secure)
    return SessionOut.of(principal)


@router.post("/logout", status_code=204, responses=problems(401))
async def logout(
    request: Request, principal: Annotated[Principal | None, Depends(current_principal)]
) -> Response:
    """End the session: its cookies are cleared and every token of this user stops working."""
    identity = identity_of(request)
    if principal is not None and principal.kind == "user":
        await run_in_threadpool(identity.verifier.users.end_sessions, principal.name)
    response = Response(status_code=204)
    clear_session(response, identity.cookie_secure)
    return response


@router.get("/me", response_model=MeOut, responses=problems(401))
async def me(
    request: Request, principal: Annotated[Principal | None, Depends(current_principal)]
) -> MeOut:
    """Who this request acts as (``authenticated: false`` when nobody); renews a page session."""
    renewed = await renew_if_due(request, principal)  # answers the renewed session's expiry
    return MeOut.of(renewed or principal, identity_of(request).verifier.public_read)


@router.put("/password", response_model=SessionOut, responses=problems(400, 429))
async def change_password(
    body: PasswordChange,
    request: Request,
    response: Response,
    principal: Annotated[Principal, access(Role.VIEWER)],
) -> SessionOut:
    """A signed-in user sets a new password: their other sessions end, this one goes on."""
    identity = identity_of(request)
    if principal.kind != "user":
        raise Forbidden("an API key has no password")
    counted = f"user:{principal.name}"  # guessing the current password is guessing too
    await identity.limiter.check("login", counted)
    try:
        token, fresh = await run_in_threadpool(
            identity.verifier.change_password, principal.name, body.current_password, body.password
        )
    except Forbidden:
        await identity.limiter.hit("login", counted)
        raise
    set_session(response, token, fresh, identity.cookie_secure)
    return SessionOut.of(fresh)
