"""veilcv: privacy and compliance tooling for computer-vision data."""

__version__ = "0.1.0"
