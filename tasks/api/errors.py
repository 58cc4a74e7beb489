"""Errors of the API as JSON ``{"reason": ..., "field": ...}``, whatever raised them."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from models.errors import MatcherError, OperatorInputError


class ApiError(Exception):
    """A refusal to answer: HTTP ``status``, a ``reason`` a person can act on, the ``field``."""

    def __init__(
        self,
        status: int,
        reason: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(reason)
        self.status, self.reason, self.field, self.headers = status, reason, field, headers


def refused_input(exc: Exception, field: str) -> ApiError:
    """An operator's input refused by the shared validators (422, their own words)."""
    return ApiError(422, str(exc), field)


def not_found(what: str, ref: object, field: str = "path") -> ApiError:
    """404 for a thing that does not exist."""
    return ApiError(404, f"there is no {what} {ref}", field)


def body(reason: str, field: str | None = None) -> dict[str, Any]:
    """The JSON body of every error."""
    return {"reason": reason, "field": field}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"description": text, "model": None}
    for code, text in {
        401: "missing, unknown or revoked bearer token",
        403: "the token's role is too low (the reason says which is needed)",
        422: "an input was refused (reason, field)",
    }.items()
}


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as ``{"reason", "field"}``."""

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(body(exc.reason, exc.field), exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
        where = first.get("loc", ("request",))[0] if first.get("loc") else "request"
        return JSONResponse(body(f"{where} {field or ''}: {first['msg']}".strip(), field), 422)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse(body(str(exc.detail)), exc.status_code, headers=exc.headers)

    @app.exception_handler(OperatorInputError)
    async def _operator_input(_: Request, exc: OperatorInputError) -> JSONResponse:
        return JSONResponse(body(str(exc)), 422)

    @app.exception_handler(MatcherError)
    async def _matcher(_: Request, exc: MatcherError) -> JSONResponse:
        return JSONResponse(body(str(exc), "match"), 422)
