"""``python -m offerlab`` runs the command line."""

from offerlab.cli.main import app

app(prog_name="offerlab")
