"""The vocabulary of SyncScenes: materials, ambiences, prompt-only layers, looks and timing rules.

What an object looks like (shape and colour) decides its material, so the video alone determines
the timbre; the colour families of different materials never overlap.
"""

from __future__ import annotations

MATERIALS = ("metal", "wood", "glass", "drum", "rubber", "beep")  # foreground materials
AMBIENCES = ("rain", "water", "wind")  # visible on screen and audible
PROMPT_LAYERS = ("music", "hum")  # audible only; the picture never shows them
LAYER_NAMES = ("foreground",) + AMBIENCES + PROMPT_LAYERS  # stem order
LABELS = MATERIALS + AMBIENCES + PROMPT_LAYERS  # multi-label classes for evaluation

# material -> (shape, ((colour name, RGB), ...)); each object picks one colour of its material.
APPEARANCE: dict[str, tuple[str, tuple[tuple[str, tuple[int, int, int]], ...]]] = {
    "metal": ("circle", (("grey", (150, 156, 166)), ("silver", (200, 204, 212)))),
    "wood": ("square", (("brown", (139, 87, 45)), ("tan", (186, 136, 84)))),
    "glass": ("triangle", (("cyan", (80, 215, 230)), ("light blue", (150, 200, 250)))),
    "drum": ("disc", (("red", (205, 40, 40)), ("crimson", (165, 20, 60)))),
    "rubber": ("circle", (("green", (60, 185, 70)), ("yellow", (235, 210, 40)))),
    "beep": ("box", (("purple", (110, 60, 165)), ("violet", (140, 90, 200)))),
}

# How each material's events happen on screen: a ball bounces on the floor, a mallet strikes an
# object resting on the floor, a box lights up while it beeps.
MOTIONS: dict[str, tuple[str, ...]] = {
    "metal": ("bounce", "strike"),
    "wood": ("bounce", "strike"),
    "glass": ("bounce", "strike"),
    "drum": ("strike",),
    "rubber": ("bounce",),
    "beep": ("flash",),
}

# Half height of each shape, as a fraction of min(height, width): (low, high).
SIZE: dict[str, tuple[float, float]] = {
    "metal": (0.065, 0.085),
    "wood": (0.06, 0.08),
    "glass": (0.075, 0.095),
    "drum": (0.055, 0.065),  # a wide disc: its half width is twice this
    "rubber": (0.055, 0.075),
    "beep": (0.055, 0.07),
}

MIN_EVENT_GAP_S = 0.25  # any two events of a clip (one object's or two) are at least this far
# apart: a 200 ms sync error plus the 50 ms onset tolerance never lands on another event, so
# onset F1 sees it (SyncScenes 1.x used 0.06 s between objects only; see the builder's notes)
FIRST_EVENT_S = 0.1  # no event before this time
END_MARGIN_S = 0.05  # nor in the last 50 ms, so every onset is followed by audible sound
ONSET_WINDOW_S = 0.02  # an onset is audible when the RMS of the foreground in this window after it
ONSET_RATIO = 2.0  # is at least this many times the RMS in the window before it
FLOOR_FRACTION = 0.78  # the floor surface sits at this fraction of the frame height
GRAVITY_PER_HEIGHT = 5.0  # g in frame heights per s^2: a drop of half the frame takes ~0.45 s
