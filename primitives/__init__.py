"""Differentiable vision primitives: detectors, measures, atoms, temporal and logical operators."""
