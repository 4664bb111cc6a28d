"""``python -m nndl``."""

from nndl.cli.main import entry

entry()
