"""SQLModel tables, engine set-up, migrations, the run lock, queries and state changes."""
