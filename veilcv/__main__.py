from veilcv.cli.main import run

run()
