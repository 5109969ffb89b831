"""VIRTUE's segmentation stream on the stock `sam2` package: SAM2.1 (frozen) + the trained connector.

    image (SAM frame SxS) --SAM image encoder--> lowest-res FPN map + no_mem_embed      [B, C, S/16, S/16]
    prompt --SAM prompt encoder--> sparse tokens, dense embedding
    mask decoder's two-way transformer on (image + dense, dense PE, output tokens + sparse tokens)
        -> its image-side output                                                      [B, C, S/16, S/16]
    connector: Conv2d(C, C, 4, stride 4) -> flatten -> Linear(C, C) -> GELU -> Linear(C, d)
        -> (S/64)^2 segmentation tokens (256 for SAM2.1 at 1024)                      [B, 256, d]

Prompts (`SamPrompt`): a box is two corner points labelled 2 and 3, a point is labelled 1 (box first
when both, as the official code orders them); no prompt is the 3x3 grid of positive points at 1/6,
1/2, 5/6 of each side (`points_per_side` of the `virtue_sam` block). A mask goes through SAM's own
`mask_input` (logits at 4x the embedding size): our extension, the released code does not wire masks.
The masks SAM would predict are never computed; only the transformer's image-side output is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from evaluators.models.hub import require_hub_model
from scar.core.errors import ScarError

BOX_LABELS = (2, 3)
POINT_LABEL = 1
PAD_LABEL = -1
CONNECTOR_FILE = "sam2_reducer_and_vlm_layer.pth"
SAM_HUB_ID = "facebook/sam2.1-hiera-base-plus"
SAM_CONFIG = "configs/sam2.1/sam2.1_hiera_b+.yaml"
MASK_LOGIT_SCALE, MASK_LOGIT_BIAS = 20.0, -10.0  # binary mask -> logits, the scaling SAM2 uses itself


@dataclass
class SamPrompt:
    coords: torch.Tensor  # (n, 2) xy in SAM-frame pixels
    labels: torch.Tensor  # (n,) int: 1 point, 2/3 box corners, -1 padding
    mask_logits: torch.Tensor | None = None  # (1, m, m) at the prompt encoder's mask_input_size


def grid_prompt(points_per_side: int, sam_size: int) -> SamPrompt:
    """The official no-prompt input: a points_per_side^2 grid of positive points (3 -> 1/6, 1/2, 5/6)."""
    from sam2.utils.amg import build_point_grid

    coords = torch.as_tensor(build_point_grid(points_per_side) * sam_size, dtype=torch.float32)
    return SamPrompt(coords, torch.full((len(coords),), POINT_LABEL, dtype=torch.int32))


def mask_logits(mask_rle: tuple[tuple[int, int], str], size: int) -> torch.Tensor:
    """COCO RLE -> (1, size, size) logits for SAM's mask_input (the mask stretched to SAM's square frame)."""
    from pycocotools import mask as mask_utils

    (height, width), counts = mask_rle
    rle = {"size": [int(height), int(width)], "counts": counts.encode("ascii") if isinstance(counts, str) else counts}
    binary = torch.from_numpy(np.ascontiguousarray(mask_utils.decode(rle))).float()[None, None]
    resized = F.interpolate(binary, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return resized[0] * MASK_LOGIT_SCALE + MASK_LOGIT_BIAS


class Connector(nn.Module):
    """The trained bridge from SAM's fused map to VLM tokens; attribute names = the official key names."""

    def __init__(self, sam_dim: int, vlm_hidden: int) -> None:
        super().__init__()
        self.sam2_reducer = nn.Conv2d(sam_dim, sam_dim, kernel_size=4, stride=4)
        self.sam2vlm_layer = nn.Sequential(nn.Linear(sam_dim, sam_dim), nn.GELU(), nn.Linear(sam_dim, vlm_hidden))

    def forward(self, fused: torch.Tensor) -> torch.Tensor:
        reduced = self.sam2_reducer(fused)  # [B, C, h/4, w/4]
        return self.sam2vlm_layer(reduced.flatten(2).transpose(1, 2))  # [B, h*w/16, d]


def load_connector(path: Path, sam_dim: int, vlm_hidden: int) -> Connector:
    """Connector weights from `sam2_reducer_and_vlm_layer.pth`, strict: a wrong file is a one-line error."""
    connector = Connector(sam_dim, vlm_hidden)
    if not path.is_file():
        raise ScarError(f"{path}: VIRTUE connector file not found (expected {CONNECTOR_FILE} beside the weights)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ScarError(f"{path}: not a readable torch file ({exc.__class__.__name__})") from None
    if not isinstance(state, dict) or set(state) != {"sam2_reducer", "sam2vlm_layer"}:
        keys = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise ScarError(f"{path}: expected a dict with 'sam2_reducer' and 'sam2vlm_layer', got {keys}")
    for key in ("sam2_reducer", "sam2vlm_layer"):
        try:
            getattr(connector, key).load_state_dict(state[key], strict=True)
        except (RuntimeError, TypeError, AttributeError) as exc:
            first = str(exc).strip().splitlines()
            reason = " ".join(line.strip() for line in first[:3])
            raise ScarError(f"{path}: '{key}' does not match a SAM dim {sam_dim} -> VLM dim {vlm_hidden} "
                            f"connector: {reason}") from None
    return connector


def resolve_sam_files(model_dir: Path | None, virtue_sam: dict, sam_checkpoint: str | None,
                      sam_config: str | None) -> tuple[Path, Path]:
    """(config yaml, checkpoint): explicit options first, then the `virtue_sam` block (paths relative to
    the model folder, or a config name from the sam2 package), then Meta's hub checkpoint."""
    config_name = sam_config or virtue_sam.get("config_path") or SAM_CONFIG
    config = _existing(config_name, model_dir)
    if config is None:
        packaged = resources.files("sam2") / "configs" / "sam2.1" / Path(config_name).name
        if not packaged.is_file():
            raise ScarError(f"SAM2 config {config_name!r} not found (neither a file nor a sam2 package config)")
        config = Path(str(packaged))
    checkpoint_name = sam_checkpoint or virtue_sam.get("checkpoint")
    checkpoint = _existing(checkpoint_name, model_dir) if checkpoint_name else None
    if checkpoint is None and sam_checkpoint:
        raise ScarError(f"{sam_checkpoint}: SAM checkpoint not found")
    if checkpoint is None:
        require_hub_model(SAM_HUB_ID, None, remedy="--sam-checkpoint PATH")
        try:
            from huggingface_hub import hf_hub_download
            from sam2.build_sam import HF_MODEL_ID_TO_FILENAMES

            checkpoint = Path(hf_hub_download(SAM_HUB_ID, HF_MODEL_ID_TO_FILENAMES[SAM_HUB_ID][1]))
        except Exception as exc:
            raise ScarError(f"SAM2.1 checkpoint not available ({exc.__class__.__name__}); download "
                            f"{SAM_HUB_ID} and pass --sam-checkpoint PATH") from None
    return config, checkpoint


def _existing(name: str | None, model_dir: Path | None) -> Path | None:
    if not name:
        return None
    for candidate in (Path(name), (model_dir / name) if model_dir else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def build_sam(config: Path, checkpoint: Path) -> nn.Module:
    """SAM2Base from its hydra config and a Meta checkpoint ({"model": state_dict}), strict, frozen, eval."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    cfg = OmegaConf.load(config)
    OmegaConf.resolve(cfg)
    if "model" not in cfg:
        raise ScarError(f"{config}: not a SAM2 config (no 'model' section)")
    sam = instantiate(cfg.model, _recursive_=True)
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        sam.load_state_dict(state["model"] if "model" in state else state, strict=True)
    except (RuntimeError, KeyError, TypeError) as exc:
        raise ScarError(f"{checkpoint}: does not match the SAM2 config {config.name} "
                        f"({str(exc).strip().splitlines()[0]})") from None
    for param in sam.parameters():
        param.requires_grad_(False)
    return sam.eval()


class SegmentationStream(nn.Module):
    """SAM2 (frozen) + connector: SAM-normalised images and prompts -> segmentation tokens."""

    def __init__(self, sam: nn.Module, connector: Connector, points_per_side: int = 3) -> None:
        super().__init__()
        self.sam = sam
        self.connector = connector
        self.points_per_side = points_per_side

    @property
    def size(self) -> int:
        return int(self.sam.image_size)

    @property
    def mask_input_size(self) -> int:
        return int(self.sam.sam_prompt_encoder.mask_input_size[0])

    def image_embeddings(self, pixels: torch.Tensor) -> torch.Tensor:
        backbone = self.sam.forward_image(pixels)
        embedding = backbone["backbone_fpn"][-1]  # lowest resolution level, what the mask decoder reads
        if self.sam.directly_add_no_mem_embed:
            embedding = embedding + self.sam.no_mem_embed.view(1, -1, 1, 1)
        return embedding

    def fuse(self, embeddings: torch.Tensor, prompts: list[SamPrompt]) -> torch.Tensor:
        """Two-way transformer image-side output per (image, prompt); prompts with the same number of
        points run together (padding points would change attention, so lengths are never mixed)."""
        fused = torch.empty_like(embeddings)
        groups: dict[tuple[int, bool], list[int]] = {}
        for index, prompt in enumerate(prompts):
            groups.setdefault((len(prompt.coords), prompt.mask_logits is not None), []).append(index)
        for rows in groups.values():
            fused[rows] = self._fuse_group(embeddings[rows], [prompts[i] for i in rows])
        return fused

    def _fuse_group(self, embeddings: torch.Tensor, prompts: list[SamPrompt]) -> torch.Tensor:
        encoder, decoder = self.sam.sam_prompt_encoder, self.sam.sam_mask_decoder
        device, dtype = embeddings.device, embeddings.dtype
        coords = torch.stack([p.coords for p in prompts]).to(device, torch.float32)
        labels = torch.stack([p.labels for p in prompts]).to(device, torch.int32)
        masks = None
        if prompts[0].mask_logits is not None:
            masks = torch.stack([p.mask_logits for p in prompts]).to(device, dtype)
        sparse, dense = encoder(points=(coords, labels), boxes=None, masks=masks)
        sparse, dense = sparse.to(dtype), dense.to(dtype)
        heads = [decoder.iou_token.weight, decoder.mask_tokens.weight]
        if decoder.pred_obj_scores:
            heads.insert(0, decoder.obj_score_token.weight)
        output_tokens = torch.cat(heads).to(dtype).unsqueeze(0).expand(len(prompts), -1, -1)
        tokens = torch.cat([output_tokens, sparse], dim=1)
        src = embeddings + dense
        batch, channels, height, width = src.shape
        dense_pe = encoder.get_dense_pe().to(dtype).expand(batch, -1, -1, -1)
        _, image_side = decoder.transformer(src, dense_pe, tokens)
        return image_side.transpose(1, 2).reshape(batch, channels, height, width)

    def tokens(self, embeddings: torch.Tensor, prompts: list[SamPrompt]) -> torch.Tensor:
        """Segmentation tokens from SAM's image embeddings (one per prompt) and the prompts."""
        return self.connector(self.fuse(embeddings, prompts))

    def forward(
        self, pixels: torch.Tensor | None, prompts: list[SamPrompt], embeddings: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Segmentation tokens from SAM's input pixels, or from image embeddings already computed (kept
        per picture by VIRTUE's SAM cache); either way through this call, so hooks on the stream see it."""
        if embeddings is None:
            assert pixels is not None
            embeddings = self.image_embeddings(pixels)
        return self.tokens(embeddings, prompts)
