"""All SQL, per group of tables. Repositories never commit: the caller's unit of work does."""
