"""Measures of MODEL.md section 4, assembled from the engine's metric sums."""
