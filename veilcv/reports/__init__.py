"""Reporters: fairness reports (Markdown, HTML with inline SVG) and the compliance documents."""
