"""Requests PostgreSQL cannot take, refused before any view reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

NUL = "\x00"
MESSAGE = "The address contains a NUL character (%00), which no value may hold."


class RejectNulCharactersMiddleware:
    """A NUL character in a query string reaches the database as a search or filter value, where
    PostgreSQL refuses it with an error (a 500). Answer 400, in the API's one error format there."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bad = sorted(
            {key for key, values in request.GET.lists() if NUL in key or any(NUL in v for v in values)}
        )
        if not bad:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            fields = {key.replace(NUL, ""): [MESSAGE] for key in bad}
            return JsonResponse(
                {"error": {"code": "invalid", "message": MESSAGE, "fields": fields}}, status=400
            )
        return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
