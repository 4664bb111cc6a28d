"""Datasets (MNIST, regression CSVs), in-memory tensors and seeded splits."""
