"""Segment pages, split by page family: `pages.py` (list, overlap, detail, count, freeze, delete)
and `editing.py` (the builder: create, edit, live preview, tag suggestions)."""
