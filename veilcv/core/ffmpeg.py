"""The ffmpeg binary that the imageio-ffmpeg package ships: one place that finds it."""

from __future__ import annotations


def ffmpeg_exe() -> str | None:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg, or None when it is not installed."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # noqa: BLE001 - any failure means "no ffmpeg"
        return None
