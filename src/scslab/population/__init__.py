"""Synthetic residents: attributes and households, drawn per unit from keyed randomness."""
