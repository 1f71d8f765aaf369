"""Campaign pages: `campaigns` (list, form, a campaign's page), `editing` (the channel item editor
and its live preview), `items` (an item's page, its schedule, test sends, exports and results)."""
