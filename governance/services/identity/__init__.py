"""People and their roles: identity events, the rules every path obeys, and the services the API,
the console and the commands call to create users, change roles, and issue or revoke tokens."""
