"""Pulp 2 exceptions and the error body every non-2xx v2 answer carries.

The body is built like Pulp 2.8+ builds it: a base of http_status, http_request_method,
error_message, exception, traceback and `_href` (the request path), the exception's data
dict at the top level, and the coded `error` object with the same data.
"""

from __future__ import annotations

import traceback as tb

from starlette.requests import Request

from pulpwood.api.responses import JSONResponse


class V2Error(Exception):
    status = 500
    code = "PLP0000"

    def __init__(self, message: str, data: dict | None = None, sub_errors: list | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data or {}
        self.sub_errors = sub_errors or []

    def error_object(self) -> dict:
        return {"code": self.code, "description": self.message, "data": self.data,
                "sub_errors": [s.error_object() for s in self.sub_errors]}


class MissingResource(V2Error):
    status, code = 404, "PLP0009"

    def __init__(self, **resources: str) -> None:
        text = ", ".join(f"{k}={v}" for k, v in resources.items())
        super().__init__(f"Missing resource(s): {text}", {"resources": resources})


class InvalidValue(V2Error):
    status, code = 400, "PLP0015"

    def __init__(self, names, sub_errors: list | None = None, message: str | None = None) -> None:
        names = [names] if isinstance(names, str) else list(names)
        super().__init__(message or f"Invalid properties: {names!r}",
                         {"property_names": names, "properties": repr(names)}, sub_errors)


class MissingValue(V2Error):
    status, code = 400, "PLP0016"

    def __init__(self, names) -> None:
        names = [names] if isinstance(names, str) else list(names)
        super().__init__(f"Missing values for: {', '.join(names)}",
                         {"missing_property_names": names, "properties": repr(names)})


class UnsupportedValue(V2Error):
    status, code = 400, "PLP0017"

    def __init__(self, names) -> None:
        names = [names] if isinstance(names, str) else list(names)
        super().__init__(f"Unsupported properties: {', '.join(names)}",
                         {"unsupported_property_names": names, "properties": repr(names)})


class DuplicateResource(V2Error):
    status, code = 409, "PLP0018"

    def __init__(self, resource_id: str) -> None:
        super().__init__(f"Duplicate resource: {resource_id}", {"resource_id": resource_id})


class PulpDataException(V2Error):
    """A plugin refused a configuration: its message is the description."""

    status, code = 400, "PLP0000"

    def __init__(self, message: str) -> None:
        super().__init__(message, {"args": [message]})


class CodedError(V2Error):
    """A coded validation or forbidden error (PLP1xxx and friends)."""

    def __init__(self, code: str, message: str, status: int = 400, data: dict | None = None) -> None:
        super().__init__(message, data if data is not None else {"args": []})
        self.code = code
        self.status = status


class AuthError(V2Error):
    status = 401

    def __init__(self, code: str, auth_error_code: str, message: str) -> None:
        super().__init__(message, {"auth_error_code": auth_error_code})
        self.code = code


class NotImplementedOperation(V2Error):
    status, code = 501, "PLP0014"

    def __init__(self, operation: str) -> None:
        super().__init__(f"The operation {operation} is not implemented.", {"operation_name": operation})


def error_body(request: Request, exc: V2Error) -> dict:
    body = {
        "http_status": exc.status,
        "http_request_method": request.method,
        "_href": request.url.path,
        "error_message": exc.message,
        "exception": None,
        "traceback": None,
    }
    body.update({k: v for k, v in exc.data.items() if k != "properties"})
    body["error"] = exc.error_object()
    return body


def error_response(request: Request, exc: V2Error) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="pulp"'} if exc.status == 401 else None
    return JSONResponse(error_body(request, exc), status_code=exc.status, headers=headers)


def unhandled_response(request: Request, exc: BaseException) -> JSONResponse:
    """A non-Pulp exception: base keys only, exception and traceback as lists of strings."""
    return JSONResponse({
        "http_status": 500,
        "http_request_method": request.method,
        "_href": request.url.path,
        "error_message": str(exc) or type(exc).__name__,
        "exception": tb.format_exception_only(type(exc), exc),
        "traceback": tb.format_exception(type(exc), exc, exc.__traceback__),
    }, status_code=500)
