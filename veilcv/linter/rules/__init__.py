"""Rule families: one package per family, each listed once in ``veilcv.linter.registry``."""
