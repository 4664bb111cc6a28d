"""The command line: a thin adapter from arguments to one library function per command."""
