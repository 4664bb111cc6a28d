"""Study files that ship with nndl (``nndl study run``; ``nndl reproduce`` runs report.toml)."""
