"""Contacts: the one customer record per person, tags, custom fields, consent and suppression."""
