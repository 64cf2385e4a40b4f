"""Reproducible landslide detection from satellite imagery: data, models, training and studies."""

__version__ = "0.1.0"
