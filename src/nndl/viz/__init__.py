"""Figures: each computes its data in one function and draws it in another."""
