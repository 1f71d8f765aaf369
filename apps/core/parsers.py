"""The API's JSON parser, refusing bodies nested too deeply to read."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """Python's JSON reader recurses once per level: a body nested a few thousand levels deep
    exhausts the stack and DRF let the RecursionError through as a 500. It becomes a 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("The JSON body is nested too deeply to read.") from error
