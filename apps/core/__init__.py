"""Shared building blocks only: base models, workspace scoping, roles, htmx helpers, pagination,
the API error format and the health check. No business rules live here."""
