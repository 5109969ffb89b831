"""Licenses and citations of the sources a build reads, for the hub README.

Our summary of each source's published terms, not legal advice: the README says so and links the
source. `license` is a Hugging Face license id where one covers the source's annotations, else None
(the card then says `other` and points at the table).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(frozen=True)
class Terms:
    license: str | None  # HF license id of the annotations, None when the source has its own terms
    text: str  # one Markdown table cell
    citations: tuple[str, ...]  # keys of CITATIONS


_COCO_IMAGES = "images: Flickr terms of use (each image's own license is listed in the COCO annotations)"

TERMS: dict[str, Terms] = {
    "demo": Terms("apache-2.0", "rendered by scar-bench (Apache-2.0), images and annotations", ()),
    "coco": Terms("cc-by-4.0", f"[COCO](https://cocodataset.org/#termsofuse) annotations CC BY 4.0; {_COCO_IMAGES}",
                  ("lin2014coco",)),
    "refcoco": Terms(None, "referring expressions: the [refer](https://github.com/lichengunc/refer) release's terms; "
                     f"COCO annotations CC BY 4.0; {_COCO_IMAGES}", ("kazemzadeh2014referitgame", "yu2016refcoco",
                                                                      "lin2014coco")),
    "refcoco+": Terms(None, "referring expressions: the [refer](https://github.com/lichengunc/refer) release's terms; "
                      f"COCO annotations CC BY 4.0; {_COCO_IMAGES}", ("kazemzadeh2014referitgame", "yu2016refcoco",
                                                                       "lin2014coco")),
    "refcocog": Terms(None, "referring expressions: the [refer](https://github.com/lichengunc/refer) release's terms; "
                      f"COCO annotations CC BY 4.0; {_COCO_IMAGES}", ("mao2016refcocog", "nagaraja2016umd",
                                                                       "lin2014coco")),
    "vg": Terms("cc-by-4.0", "[Visual Genome](https://homes.cs.washington.edu/~ranjay/visualgenome/) CC BY 4.0",
                ("krishna2017vg",)),
    "cocostuff": Terms("cc-by-4.0", "[COCO-Stuff](https://github.com/nightrome/cocostuff) annotations CC BY 4.0; "
                       f"COCO annotations CC BY 4.0; {_COCO_IMAGES}", ("caesar2018cocostuff", "lin2014coco")),
    "ade20k": Terms(None, "the [ADE20K](https://groups.csail.mit.edu/vision/datasets/ADE20K/) terms of use "
                    "(images from the SUN and Places databases)", ("zhou2017ade20k",)),
}

UNKNOWN = Terms(None, "the source's own terms (not known to scar-bench)", ())

CITATIONS: dict[str, str] = {
    "wang2026virtue": """@inproceedings{wang2026virtue,
  title         = {{VIRTUE}: Visual-Interactive Text-Image Universal Embedder},
  author        = {Wang, Wei-Yao and Tateishi, Kazuya and Wu, Qiyu and Takahashi, Shusuke and Mitsufuji, Yuki},
  booktitle     = {International Conference on Learning Representations (ICLR)},
  year          = {2026},
  eprint        = {2510.00523},
  archivePrefix = {arXiv},
  primaryClass  = {cs.AI}
}""",
    "lin2014coco": """@inproceedings{lin2014coco,
  title     = {Microsoft {COCO}: Common Objects in Context},
  author    = {Lin, Tsung-Yi and Maire, Michael and Belongie, Serge and Hays, James and Perona, Pietro and
               Ramanan, Deva and Doll{\\'a}r, Piotr and Zitnick, C. Lawrence},
  booktitle = {European Conference on Computer Vision (ECCV)},
  pages     = {740--755},
  year      = {2014}
}""",
    "kazemzadeh2014referitgame": """@inproceedings{kazemzadeh2014referitgame,
  title     = {{ReferItGame}: Referring to Objects in Photographs of Natural Scenes},
  author    = {Kazemzadeh, Sahar and Ordonez, Vicente and Matten, Mark and Berg, Tamara L.},
  booktitle = {Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  pages     = {787--798},
  year      = {2014}
}""",
    "yu2016refcoco": """@inproceedings{yu2016refcoco,
  title     = {Modeling Context in Referring Expressions},
  author    = {Yu, Licheng and Poirson, Patrick and Yang, Shan and Berg, Alexander C. and Berg, Tamara L.},
  booktitle = {European Conference on Computer Vision (ECCV)},
  pages     = {69--85},
  year      = {2016}
}""",
    "mao2016refcocog": """@inproceedings{mao2016refcocog,
  title     = {Generation and Comprehension of Unambiguous Object Descriptions},
  author    = {Mao, Junhua and Huang, Jonathan and Toshev, Alexander and Camburu, Oana and Yuille, Alan L. and
               Murphy, Kevin},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {11--20},
  year      = {2016}
}""",
    "nagaraja2016umd": """@inproceedings{nagaraja2016umd,
  title     = {Modeling Context Between Objects for Referring Expression Understanding},
  author    = {Nagaraja, Varun K. and Morariu, Vlad I. and Davis, Larry S.},
  booktitle = {European Conference on Computer Vision (ECCV)},
  pages     = {792--807},
  year      = {2016}
}""",
    "krishna2017vg": """@article{krishna2017vg,
  title   = {Visual Genome: Connecting Language and Vision Using Crowdsourced Dense Image Annotations},
  author  = {Krishna, Ranjay and Zhu, Yuke and Groth, Oliver and Johnson, Justin and Hata, Kenji and
             Kravitz, Joshua and Chen, Stephanie and Kalantidis, Yannis and Li, Li-Jia and Shamma, David A. and
             Bernstein, Michael S. and Fei-Fei, Li},
  journal = {International Journal of Computer Vision},
  volume  = {123},
  number  = {1},
  pages   = {32--73},
  year    = {2017}
}""",
    "caesar2018cocostuff": """@inproceedings{caesar2018cocostuff,
  title     = {{COCO-Stuff}: Thing and Stuff Classes in Context},
  author    = {Caesar, Holger and Uijlings, Jasper and Ferrari, Vittorio},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {1209--1218},
  year      = {2018}
}""",
    "zhou2017ade20k": """@inproceedings{zhou2017ade20k,
  title     = {Scene Parsing through {ADE20K} Dataset},
  author    = {Zhou, Bolei and Zhao, Hang and Puig, Xavier and Fidler, Sanja and Barriuso, Adela and Torralba, Antonio},
  booktitle = {IEEE Conference on Computer Vision and Pattern Recognition (CVPR)},
  pages     = {633--641},
  year      = {2017}
}""",
}

PAPER = "wang2026virtue"


# Sources that read any file of a public format: the known terms hold only for the public release itself.
ANY_FILE_SOURCES = frozenset({"coco"})


def terms(source: str, declared: dict[str, Any] | None = None) -> Terms:
    """The terms of a source's rows. For `coco` (any COCO-format set) `declared` is what its files said
    of themselves, per split (stats.json `declared_terms`): MS-COCO's terms only when every file is an
    MS-COCO release, else the licenses the files list, and no citation."""
    if source in ANY_FILE_SOURCES and declared:
        splits = [d for _, d in sorted(declared.items()) if isinstance(d, dict)]
        if splits and not all(d.get("ms_coco") for d in splits):
            names = sorted({str(n) for d in splits for n in d.get("licenses") or []})
            text = ("its annotation files' own licenses: " + "; ".join(names[:8]) if names
                    else "none stated: the annotation files list no license (ask the data's owner)")
            return Terms(None, text, ())
    return TERMS.get(source, UNKNOWN)


def dataset_license(sources: list[str], declared: Mapping[str, dict[str, Any] | None] | None = None) -> str:
    """One HF license id when every source has the same known one, else `other`."""
    ids = {terms(s, (declared or {}).get(s)).license for s in sources}
    return ids.pop() if len(ids) == 1 and None not in ids else "other"


def citation_keys(sources: list[str], declared: Mapping[str, dict[str, Any] | None] | None = None) -> list[str]:
    keys = [PAPER]
    for source in sources:
        keys += [k for k in terms(source, (declared or {}).get(source)).citations if k not in keys]
    return keys
