"""Captions from a clip's annotation, in varied phrasings (templates x synonyms), seeded."""

from __future__ import annotations

import numpy as np

MATERIAL_WORDS = {
    "metal": ("metal", "metallic", "steel"),
    "wood": ("wooden", "wood", "timber"),
    "glass": ("glass", "glassy", "crystal glass"),
    "drum": ("drum", "drum-skin", "tom drum"),
    "rubber": ("rubber", "rubbery", "bouncy rubber"),
    "beep": ("electronic beep", "beeping", "bleeping"),
}
SHAPE_WORDS = {
    "circle": ("ball", "sphere"),
    "square": ("block", "cube"),
    "triangle": ("prism", "wedge"),
    "disc": ("drumhead", "drum pad"),
    "box": ("box", "gadget"),
}
MOTION_WORDS = {
    "bounce": ("bouncing", "bouncing on the floor", "hitting the floor", "dropping and bouncing"),
    "strike": ("being struck", "being hit", "being tapped", "being knocked"),
    "flash": ("flashing", "blinking", "lighting up"),
}
LAYER_WORDS = {
    "rain": ("rain", "rainfall", "a rain shower", "drizzling rain"),
    "water": ("flowing water", "a stream of water", "running water", "a babbling water stream"),
    "wind": ("wind", "a gusty wind", "blowing wind", "gusts of wind"),
    "music": ("music", "a melody", "a gentle music tune", "soft background music"),
    "hum": ("an electrical hum", "a buzzing electric hum", "mains hum", "a low electric hum"),
}
TEMPLATES = (
    "{objects}{with_layers}.",
    "The sound of {objects}{and_layers}.",
    "A scene with {objects}{with_layers}.",
    "Foley: {objects}{plus_layers}.",
    "{Layers_over}{objects}.",
    "We hear {objects}{and_layers}.",
)


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def object_phrase(rng, material: str, shape: str, motion: str) -> str:
    adjective = _pick(rng, MATERIAL_WORDS[material])
    article = "an" if adjective[0] in "aeiou" else "a"
    return (
        f"{article} {adjective} {_pick(rng, SHAPE_WORDS[shape])} {_pick(rng, MOTION_WORDS[motion])}"
    )


def make_captions(rng: np.random.Generator, annotation: dict, num: int = 6) -> list[str]:
    """``num`` captions, each naming every object's material and every ambience and prompt layer."""
    captions = []
    for i in range(num):
        objs = _join(
            [
                object_phrase(rng, o["material"], o["shape"], o["motion"])
                for o in annotation["objects"]
            ]
        )
        layers = [
            _pick(rng, LAYER_WORDS[n])
            for n in annotation["ambiences"] + annotation["prompt_layers"]
        ]
        layer_text = _join(layers)
        fields = {
            "objects": objs,
            "with_layers": f", with {layer_text} in the background" if layers else "",
            "and_layers": f", and {layer_text}" if layers else "",
            "plus_layers": f"; background: {layer_text}" if layers else "",
            "Layers_over": f"{layer_text[:1].upper()}{layer_text[1:]} over " if layers else "",
        }
        text = TEMPLATES[i % len(TEMPLATES)].format(**fields)
        captions.append(text[:1].upper() + text[1:])
    return captions
