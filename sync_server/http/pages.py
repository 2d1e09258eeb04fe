"""A front end's own answer to a refusal: the office's and the portal's routes are built with
``page_route(...)``, so an ``ApiError`` raised in one of their handlers or dependencies is
answered by that front end's page in words, while the sync API's answer the same error as
JSON (the app's handlers). No handler has to guess the front end from the URL.

    router = APIRouter(prefix="/office", route_class=page_route(render, wants_page))
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from sync_server.errors import ApiError

Render = Callable[[Request, ApiError], Response]


def page_route(render: Render, wants_page: Callable[[Request], bool] = lambda _: True,
               malformed: str | None = None) -> type[APIRoute]:
    """A route class answering ``ApiError`` with ``render`` when ``wants_page``; with
    ``malformed``, a request whose fields do not validate gets that sentence as a 422 page."""

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answer(request: Request) -> Response:
                try:
                    return await handler(request)
                except ApiError as exc:
                    if not wants_page(request):
                        raise
                    return render(request, exc)
                except RequestValidationError:
                    if malformed is None or not wants_page(request):
                        raise
                    return render(request, ApiError(422, "malformed_request", malformed))

            return answer

    return PageRoute
