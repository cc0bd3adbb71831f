"""``/api/v1/admin/users`` and ``/api/v1/admin/keys``: an admin manages who may use the library."""

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from ingestapi.api.identity_models import (
    KeyIn,
    KeyList,
    KeyOut,
    NewKeyOut,
    PasswordIn,
    UserIn,
    UserList,
    UserOut,
    UserPatch,
)
from shared.identity.http import access, identity_of
from shared.identity.roles import Principal, Role
from shared.openapi import problems

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
AdminDep = Annotated[Principal, access(Role.ADMIN)]


@router.get("/users", response_model=UserList)
async def list_users(request: Request, _: AdminDep) -> UserList:
    users = await run_in_threadpool(identity_of(request).verifier.users.list)
    return UserList(users=[UserOut.of(user) for user in users])


@router.post("/users", status_code=201, response_model=UserOut, responses=problems(400, 409))
async def create_user(body: UserIn, request: Request, _: AdminDep) -> UserOut:
    users = identity_of(request).verifier.users
    user = await run_in_threadpool(users.create, body.username, body.password, body.role)
    return UserOut.of(user)


@router.patch("/users/{username}", response_model=UserOut, responses=problems(404))
async def update_user(username: str, body: UserPatch, request: Request, _: AdminDep) -> UserOut:
    """Change a user's role or disable them (their sessions end at once)."""
    users = identity_of(request).verifier.users
    user = await run_in_threadpool(users.update, username, body.role, body.disabled)
    return UserOut.of(user)


@router.put("/users/{username}/password", status_code=204, responses=problems(400, 404))
async def reset_password(
    username: str, body: PasswordIn, request: Request, _: AdminDep
) -> Response:
    """Set a user's password (their sessions end)."""
    users = identity_of(request).verifier.users
    await run_in_threadpool(users.set_password, username, body.password)
    return Response(status_code=204)


@router.get("/keys", response_model=KeyList)
async def list_keys(request: Request, _: AdminDep) -> KeyList:
    keys = await run_in_threadpool(identity_of(request).verifier.keys.list)
    return KeyList(keys=[KeyOut.of(key) for key in keys])


@router.post("/keys", status_code=201, response_model=NewKeyOut, responses=problems(400))
async def create_key(body: KeyIn, request: Request, admin: AdminDep) -> NewKeyOut:
    """A new API key; the answer is the only time the key itself is shown."""
    keys = identity_of(request).verifier.keys
    plain, key = await run_in_threadpool(
        keys.create, body.name, body.role, admin.name, body.expires_in_s
    )
    return NewKeyOut(**KeyOut.of(key).model_dump(), key=plain)


@router.delete("/keys/{prefix}", status_code=204, responses=problems(404))
async def revoke_key(prefix: str, request: Request, _: AdminDep) -> Response:
    """Revoke a key: the next request that uses it is refused."""
    await run_in_threadpool(identity_of(request).verifier.keys.revoke, prefix)
    return Response(status_code=204)
