"""People who log in: the user model (email is the login) and its admin."""
