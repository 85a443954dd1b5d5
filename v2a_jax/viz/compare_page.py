"""HTML pages that put soundtracks of one clip side by side: the video with each, and spectrograms.

Every path in a page is relative to the page, so a results folder can be copied or served as is.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from v2a_jax.io.atomic import atomic_path

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
.tracks { display: flex; flex-wrap: wrap; gap: 1.5em; }
.track { border: 1px solid #ccc; padding: 0.8em; width: 520px; }
.track video { width: 256px; height: 256px; image-rendering: pixelated; background: #000; }
.track audio { width: 100%; }
.track img { width: 100%; }
table.metrics td { padding: 0 0.6em 0 0; font-size: 90%; }
"""

# Each media element records whether it loaded (data-state), so a headless browser's DOM dump
# tells a working page from one with broken links or undecodable files.
_MARK = (
    " onload=\"this.dataset.state='loaded'\" onloadedmetadata=\"this.dataset.state='loaded'\""
    " onerror=\"this.dataset.state='error'\""
)


@dataclasses.dataclass(frozen=True)
class Track:
    """One soundtrack of a clip.

    Attributes:
        label: what produced it ("ground truth", "AR", "AR + diffusion", ...).
        audio: the wav file, relative to the page.
        spectrogram: its spectrogram PNG, relative to the page.
        video: the clip's video muxed with this soundtrack (mp4), relative; None for none.
        metrics: numbers shown under it (name -> value).
    """

    label: str
    audio: str
    spectrogram: str
    video: str | None = None
    metrics: dict = dataclasses.field(default_factory=dict)


def _track_html(track: Track) -> str:
    e = html.escape
    parts = [f'<div class="track" data-label="{e(track.label)}">', f"<h3>{e(track.label)}</h3>"]
    if track.video:
        parts.append(f'<video controls preload="metadata" src="{e(track.video)}"{_MARK}></video>')
    parts.append(f'<audio controls preload="metadata" src="{e(track.audio)}"{_MARK}></audio>')
    parts.append(f'<img src="{e(track.spectrogram)}" alt="spectrogram: {e(track.label)}"{_MARK}>')
    if track.metrics:
        rows = "".join(
            f"<tr><td>{e(str(k))}</td><td>{v:.4g}</td></tr>"
            if isinstance(v, float)
            else f"<tr><td>{e(str(k))}</td><td>{e(str(v))}</td></tr>"
            for k, v in track.metrics.items()
        )
        parts.append(f'<table class="metrics">{rows}</table>')
    parts.append("</div>")
    return "\n".join(parts)


def write_clip_page(path: str | Path, clip_id: str, tracks: list[Track], caption: str = "") -> Path:
    """Writes one clip's page (atomically): a column per track, in the order given.

    Raises:
        ValueError: no tracks, or two with the same label.
    """
    labels = [t.label for t in tracks]
    if not tracks or len(set(labels)) != len(labels):
        raise ValueError(f"tracks must be non-empty with distinct labels, got {labels}")
    e = html.escape
    body = "\n".join(_track_html(t) for t in tracks)
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(clip_id)}</title><style>{_STYLE}</style></head><body>\n"
        f'<h1>{e(clip_id)}</h1>\n<p class="caption">{e(caption)}</p>\n'
        f'<div class="tracks">\n{body}\n</div>\n</body></html>\n'
    )
    final = Path(path)
    with atomic_path(final) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return final


def write_index(
    path: str | Path, title: str, pages: list[tuple[str, str]], summary_html=""
) -> Path:
    """Writes an index page linking ``(label, href)`` pages, with an optional summary block."""
    e = html.escape
    items = "\n".join(f'<li><a href="{e(href)}">{e(label)}</a></li>' for label, href in pages)
    page = (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>{e(title)}</h1>\n{summary_html}\n"
        f"<ul>\n{items}\n</ul>\n</body></html>\n"
    )
    final = Path(path)
    with atomic_path(final) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return final
