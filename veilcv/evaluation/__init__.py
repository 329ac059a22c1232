"""Evaluation: per-group error rates with honest intervals, detection matching, input readers."""
