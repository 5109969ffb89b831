"""Registers the real-dataset loaders by name (imported by scar.sources on first use)."""

from scar.sources import register

register("refcoco", "scar.sources.refer:RefCOCO", "RefCOCO, refer layout: --root DIR (refcoco/refs(unc).p + instances.json)")
register("refcoco+", "scar.sources.refer:RefCOCOPlus", "RefCOCO+, refer layout: --root DIR (refcoco+/refs(unc).p + instances.json)")
register("refcocog", "scar.sources.refer:RefCOCOg", "RefCOCOg, refer layout: --root DIR (refcocog/refs(umd).p + instances.json)")
register("coco", "scar.sources.coco:CocoSource", "any COCO instances JSON: --annotations FILE --images DIR")
register("vg", "scar.sources.visual_genome:VisualGenomeSource", "Visual Genome JSONs under --root (boxes only)")
register("cocostuff", "scar.sources.cocostuff:CocoStuffSource", "COCO-Stuff 164K: stuff JSON and/or stuffthingmaps PNGs + COCO things")
register("ade20k", "scar.sources.ade20k:Ade20kSource", "ADE20K full release (index_ade20k.pkl) or ADEChallengeData2016")
