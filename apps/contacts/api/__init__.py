"""REST API for contacts, tags and custom fields (registered in config/api_router.py). Thin:
services write, selectors read, and every rule for a contact's fields lives in
`apps.contacts.cleaning`, so the serializers here pass raw values on."""
