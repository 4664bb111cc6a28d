"""Hyperparameter searches: spaces (``suggest(trial) -> params``), objectives, studies."""
