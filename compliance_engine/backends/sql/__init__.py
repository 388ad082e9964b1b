"""The SQL backend: the plan compiled to SQL (compiler.py) and run on DuckDB (duckdb_runner.py)."""
