"""Policy-as-code linter: rules grouped by family, one engine, several reporters."""
