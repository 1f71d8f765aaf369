"""Browser pages for contacts: the list (search, filters, columns, bulk actions), the contact page,
create and edit, GDPR erase, tags and custom fields; one module per page family.

Thin: forms check the input's shape, services write, selectors read. A service's ValidationError
lands next to the field it names. The list pages by keyset (`after=<id>`), never by OFFSET, and
counts only when asked (a lazy htmx fragment) or when the answer is already on the page.
"""
