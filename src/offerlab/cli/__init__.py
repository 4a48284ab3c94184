"""The thin command line: one module per pipeline step, joined in :mod:`offerlab.cli.main`."""
