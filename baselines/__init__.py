"""Baseline embedders behind the evaluators' Embedder protocol: CLIP, OpenCLIP, SigLIP (clip.py),
VLM2Vec (vlm2vec.py), and the region variants that show a region to a region-blind model (regions.py).
"""
