"""Persistence: the SQLite database, schema migrations, repositories and FSM storage."""
