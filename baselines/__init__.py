"""Baseline embedders behind the evaluators' Embedder protocol: CLIP, OpenCLIP, SigLIP (clip.py) and
VLM2Vec (vlm2vec.py), registered in models.py; region-blind ones show a region through the variants
of `evaluators.models.regions`.
"""
