"""SCaR toolkit: build the Segmentation-and-Scene Caption Retrieval benchmark, evaluate, publish."""

__version__ = "0.1.0"
