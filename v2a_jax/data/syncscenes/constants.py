"""The vocabulary of SyncScenes: materials, ambiences, prompt-only layers and their looks."""

from __future__ import annotations

MATERIALS = ("metal", "wood", "glass", "drum", "rubber", "beep")
AMBIENCES = ("rain", "water", "wind")  # visible on screen and audible
PROMPT_LAYERS = ("music", "hum")  # audible only; the picture never shows them
LAYER_NAMES = ("foreground",) + AMBIENCES + PROMPT_LAYERS  # stem order
LABELS = MATERIALS + AMBIENCES + PROMPT_LAYERS  # multi-label classes for evaluation

# What a material looks like decides what it sounds like: shape, colour name, RGB.
APPEARANCE: dict[str, tuple[str, str, tuple[int, int, int]]] = {
    "metal": ("circle", "silver", (200, 200, 215)),
    "wood": ("square", "brown", (150, 95, 40)),
    "glass": ("triangle", "cyan", (110, 230, 240)),
    "drum": ("disc", "red", (215, 45, 45)),
    "rubber": ("circle", "yellow", (235, 205, 40)),
    "beep": ("box", "green", (40, 160, 70)),
}

# How each material's events happen on screen.
MOTIONS: dict[str, tuple[str, ...]] = {
    "metal": ("bounce", "strike"),
    "wood": ("bounce", "strike"),
    "glass": ("bounce", "strike"),
    "drum": ("strike",),
    "rubber": ("bounce",),
    "beep": ("flash",),
}

MIN_EVENT_GAP_S = 0.06  # distinct events of a clip are at least this far apart
FIRST_EVENT_S = 0.1  # no event before this time
