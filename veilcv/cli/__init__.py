"""The `veil` command line: thin typer commands that parse arguments and call the library."""
