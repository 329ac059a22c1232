"""Decoders: small pure functions from raw model outputs to boxes in model-input pixels."""

from veilcv.core.detection.decoders.centerface import decode_centerface
from veilcv.core.detection.decoders.dbnet import decode_dbnet, plate_like
from veilcv.core.detection.decoders.ssd import decode_ssd
from veilcv.core.detection.decoders.yolo import decode_yolo

__all__ = ["decode_centerface", "decode_dbnet", "decode_ssd", "decode_yolo", "plate_like"]
