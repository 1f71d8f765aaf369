"""Workspaces (one per company), teams, memberships and roles, invitations and API tokens."""
