"""The embedded demo source: procedurally rendered scenes, made on the fly, no download.

Each image is a scene (beach, kitchen, street, ...) with a painted background and 1-5 objects drawn as
simple PIL shapes. Objects are painted back to front onto the RGB image and, with the same shapes, onto
an object-id map, so every instance mask is exact after occlusion (a mask is `id_map == k`). Each entity
gets a RefCOCO-style referring phrase built from what the renderer knows: colour, size, position, the
surface it stands on and which objects hide it.

Deterministic by (seed, split, image index); train and eval use different image ids and seeds.
"""

from scar.sources.demo.render import render_image
from scar.sources.demo.source import DEFAULT_IMAGES, MIN_VISIBLE_FRACTION, DemoSource

__all__ = ["DEFAULT_IMAGES", "MIN_VISIBLE_FRACTION", "DemoSource", "render_image"]
