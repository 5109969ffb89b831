"""Each dataset's own names for the generic layout categories (COCO ids, COCO-Stuff, ADE20K, Visual Genome)."""

from __future__ import annotations

COCO_IDS = {
    "person": 1, "bicycle": 2, "car": 3, "motorcycle": 4, "airplane": 5, "bus": 6, "train": 7, "truck": 8, "boat": 9,
    "traffic light": 10, "fire hydrant": 11, "stop sign": 13, "parking meter": 14, "bench": 15, "bird": 16, "cat": 17,
    "dog": 18, "horse": 19, "sheep": 20, "cow": 21, "elephant": 22, "bear": 23, "zebra": 24, "giraffe": 25,
    "backpack": 27, "umbrella": 28, "handbag": 31, "tie": 32, "suitcase": 33, "frisbee": 34, "skis": 35,
    "snowboard": 36, "sports ball": 37, "kite": 38, "baseball bat": 39, "baseball glove": 40, "skateboard": 41,
    "surfboard": 42, "tennis racket": 43, "bottle": 44, "wine glass": 46, "cup": 47, "fork": 48, "knife": 49,
    "spoon": 50, "bowl": 51, "banana": 52, "apple": 53, "sandwich": 54, "orange": 55, "broccoli": 56, "carrot": 57,
    "hot dog": 58, "pizza": 59, "donut": 60, "cake": 61, "chair": 62, "couch": 63, "potted plant": 64, "bed": 65,
    "dining table": 67, "toilet": 70, "tv": 72, "laptop": 73, "mouse": 74, "remote": 75, "keyboard": 76,
    "cell phone": 77, "microwave": 78, "oven": 79, "toaster": 80, "sink": 81, "refrigerator": 82, "book": 84,
    "clock": 85, "vase": 86, "scissors": 87, "teddy bear": 88, "hair drier": 89, "toothbrush": 90,
}
COCO_SUPER = {
    "person": "person", "bicycle": "vehicle", "car": "vehicle", "motorcycle": "vehicle", "airplane": "vehicle", "bus": "vehicle",
    "train": "vehicle", "truck": "vehicle", "boat": "vehicle", "bird": "animal", "cat": "animal", "dog": "animal",
    "horse": "animal", "sheep": "animal", "cow": "animal", "elephant": "animal", "bear": "animal", "zebra": "animal",
    "giraffe": "animal", "chair": "furniture", "couch": "furniture", "bed": "furniture", "dining table": "furniture",
}

# COCO-Stuff 164K stuff classes (ids 92-182, in the release's order) and the generic names they stand for.
COCOSTUFF_NAMES = (
    "banner,blanket,branch,bridge,building-other,bush,cabinet,cage,cardboard,carpet,ceiling-other,ceiling-tile,cloth,"
    "clothes,clouds,counter,cupboard,curtain,desk-stuff,dirt,door-stuff,fence,floor-marble,floor-other,floor-stone,"
    "floor-tile,floor-wood,flower,fog,food-other,fruit,furniture-other,grass,gravel,ground-other,hill,house,leaves,"
    "light,mat,metal,mirror-stuff,moss,mountain,mud,napkin,net,paper,pavement,pillow,plant-other,plastic,platform,"
    "playingfield,railing,railroad,river,road,rock,roof,rug,salad,sand,sea,shelf,sky-other,skyscraper,snow,solid-other,"
    "stairs,stone,straw,structural-other,table,tent,textile-other,towel,tree,vegetable,wall-brick,wall-concrete,"
    "wall-other,wall-panel,wall-stone,wall-tile,wall-wood,water-other,waterdrops,window-blind,window-other,wood"
).split(",")
COCOSTUFF_IDS = {name: 92 + i for i, name in enumerate(COCOSTUFF_NAMES)}
COCOSTUFF_FOR = {
    "sky": ("sky-other",), "wall": ("wall-concrete", "wall-other", "wall-brick", "wall-panel"), "floor": ("floor-wood", "floor-other", "floor-tile"),
    "ceiling": ("ceiling-other", "ceiling-tile"), "cabinet": ("cabinet", "cupboard"), "counter": ("counter",), "window": ("window-other", "window-blind"),
    "curtain": ("curtain",), "rug": ("rug", "carpet"), "mirror": ("mirror-stuff",), "towel": ("towel",), "desk": ("desk-stuff",),
    "shelf": ("shelf",), "building": ("building-other", "house", "skyscraper"), "road": ("road",), "sidewalk": ("pavement",),
    "pavement": ("pavement", "ground-other"), "tree": ("tree",), "grass": ("grass",), "sea": ("sea",), "sand": ("sand",),
    "clouds": ("clouds",), "mountain": ("mountain",), "snow": ("snow",), "playingfield": ("playingfield",), "fence": ("fence",),
    "dirt": ("dirt",), "hill": ("hill",), "water": ("water-other", "river", "sea"), "bridge": ("bridge",), "railroad": ("railroad",),
    "platform": ("platform",), "roof": ("roof",),
}

# ADE20K full-release object names (wordnet-style "name, synonym, ..."), for the generic names.
ADE_NAMES = {
    "person": "person, individual, someone, somebody, mortal, soul", "car": "car, auto, automobile, machine, motorcar",
    "dining table": "table", "couch": "sofa, couch, lounge", "tv": "television receiver, television, television set, tv, tv set",
    "potted plant": "plant, flora, plant life", "refrigerator": "refrigerator, icebox", "toilet": "toilet, can, commode, crapper",
    "bicycle": "bicycle, bike, wheel, cycle", "motorcycle": "minibike, motorbike", "bus": "bus, autobus, coach, charabanc",
    "truck": "truck, motortruck", "airplane": "airplane, aeroplane, plane", "train": "train, railroad train",
    "traffic light": "traffic light, traffic signal, stoplight", "microwave": "microwave, microwave oven", "laptop": "laptop",
    "cell phone": "telephone, phone, telephone set", "sports ball": "ball", "wine glass": "glass, drinking glass",
    "teddy bear": "stuffed toy", "keyboard": "computer keyboard", "mouse": "mouse, computer mouse", "book": "book",
    "sky": "sky", "wall": "wall", "floor": "floor, flooring", "ceiling": "ceiling", "road": "road, route",
    "sidewalk": "sidewalk, pavement", "pavement": "sidewalk, pavement", "grass": "grass", "tree": "tree",
    "building": "building, edifice", "sea": "sea", "sand": "sand", "mountain": "mountain, mount", "water": "water",
    "dirt": "earth, ground", "window": "windowpane, window", "curtain": "curtain, drape, drapery, mantle, pall",
    "rug": "rug, carpet, carpeting", "cabinet": "cabinet", "counter": "counter", "mirror": "mirror", "towel": "towel",
    "desk": "desk", "shelf": "shelf", "fence": "fence, fencing", "hill": "hill", "bridge": "bridge, span",
    "railroad": "railway, railroad track", "platform": "platform", "roof": "roof", "snow": "snow", "clouds": "cloud",
    "playingfield": "field", "bench": "bench", "chair": "chair", "bed": "bed", "clock": "clock", "vase": "vase",
}
ADE_SCENES = {
    "kitchen": "/home_or_hotel/kitchen", "living room": "/home_or_hotel/living_room", "bedroom": "/home_or_hotel/bedroom",
    "bathroom": "/home_or_hotel/bathroom", "dining room": "/home_or_hotel/dining_room", "office": "/work_place/office",
    "street": "/urban/street", "park": "/urban/park", "beach": "/nature_landscape/beach", "ski slope": "/sports_and_leisure/ski_slope",
    "tennis court": "/sports_and_leisure/tennis_court", "baseball field": "/sports_and_leisure/baseball_field",
    "pasture": "/nature_landscape/pasture", "airport": "/transportation/runway", "harbour": "/transportation/harbor",
    "train station": "/transportation/train_station", "savanna": "/nature_landscape/savanna", "skate park": "/sports_and_leisure/skatepark",
}

# Visual Genome: free-form names; a person is named in many ways, parts are annotated too.
VG_NAMES = {
    "dining table": ("table",), "couch": ("couch", "sofa"), "tv": ("tv", "television"), "potted plant": ("plant", "potted plant"),
    "cell phone": ("phone", "cell phone"), "sports ball": ("ball",), "wine glass": ("glass", "wine glass"), "hair drier": ("hair dryer",),
    "fire hydrant": ("fire hydrant", "hydrant"), "airplane": ("airplane", "plane"), "baseball glove": ("glove",),
    "baseball bat": ("bat",), "tennis racket": ("racket", "tennis racket"), "refrigerator": ("refrigerator", "fridge"),
    "road": ("road", "street"), "pavement": ("pavement", "ground"), "tree": ("tree", "trees"), "sea": ("water", "ocean"),
    "sand": ("sand", "beach"), "playingfield": ("court", "field"), "railroad": ("tracks",), "clouds": ("clouds",),
}
VG_PERSON = {
    "ski slope": ("skier", "man", "person"), "beach": ("man", "woman", "surfer", "person"), "tennis court": ("man", "player", "woman"),
    "baseball field": ("player", "man", "batter"), "skate park": ("skateboarder", "man", "boy"),
}
VG_PERSON_DEFAULT = ("man", "woman", "person", "boy", "girl")
VG_PARTS = {
    "person": (("shirt", (0.2, 0.15, 0.8, 0.5), True), ("pants", (0.2, 0.5, 0.8, 0.95), True), ("hair", (0.3, 0.0, 0.7, 0.1), False),
               ("hand", (0.0, 0.45, 0.2, 0.55), False)),
    "car": (("wheel", (0.1, 0.7, 0.3, 1.0), False), ("window", (0.3, 0.1, 0.7, 0.45), False)),
    "bus": (("wheel", (0.1, 0.75, 0.25, 1.0), False), ("window", (0.1, 0.15, 0.9, 0.5), False)),
    "building": (("window", (0.2, 0.2, 0.4, 0.35), False), ("window", (0.6, 0.4, 0.8, 0.55), False)),
    "tree": (("leaves", (0.0, 0.0, 1.0, 0.6), True),),
    "dining table": (("plate", (0.3, 0.0, 0.5, 0.2), True),),
    "bed": (("pillow", (0.05, 0.0, 0.35, 0.3), True), ("blanket", (0.2, 0.3, 1.0, 1.0), True)),
}

PERSON_WORDS = ("man", "woman", "guy", "lady", "kid", "player", "boy", "girl")
