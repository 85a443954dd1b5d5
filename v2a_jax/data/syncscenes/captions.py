"""Captions from a clip's annotation, in varied phrasings: templates x synonyms, seeded.

Every caption names every label of the clip (each sounding material, each ambience, each
prompt-only layer), so the prompt carries what the picture cannot show. ``KEYWORDS[label]`` are
the words any phrase for that label contains (the tests check captions with them).
"""

from __future__ import annotations

import numpy as np

KEYWORDS: dict[str, tuple[str, ...]] = {
    "metal": ("metal", "steel"),
    "wood": ("wood", "timber"),
    "glass": ("glass", "crystal"),
    "drum": ("drum", "tom-tom"),
    "rubber": ("rubber",),
    "beep": ("beep", "bleep"),
    "rain": ("rain", "drizzle"),
    "water": ("water", "stream", "brook"),
    "wind": ("wind", "breeze"),
    "music": ("music", "melody", "tune"),
    "hum": ("hum", "buzz"),
}
# Object noun phrases by material; "{c} " is the colour (or nothing).
NOUNS: dict[str, tuple[str, ...]] = {
    "metal": ("{c}metal ball", "{c}metallic ball", "{c}steel sphere", "{c}metal sphere"),
    "wood": ("{c}wooden block", "{c}wood cube", "{c}timber block", "{c}block of wood"),
    "glass": ("{c}glass prism", "{c}glass triangle", "{c}crystal wedge", "{c}triangle of glass"),
    "drum": ("{c}drum", "{c}tom-tom", "{c}hand drum", "{c}drumhead"),
    "rubber": ("{c}rubber ball", "{c}bouncy rubber ball", "{c}rubbery ball"),
    "beep": ("{c}beeping box", "{c}electronic beeper", "{c}box that beeps", "{c}bleeping gadget"),
}
MOTION_WORDS: dict[str, tuple[str, ...]] = {
    "bounce": ("bouncing", "bouncing on the floor", "hitting the floor", "dropping and bouncing",
               "bouncing off the ground", "falling and bouncing"),
    "strike": ("being struck", "hit by a mallet", "being hit", "struck with a mallet",
               "being tapped", "knocked by a hammer"),
    "flash": ("flashing", "blinking", "lighting up", "flashing on and off"),
}  # fmt: skip
SOUND_WORDS: dict[str, tuple[str, ...]] = {
    "metal": ("metal clangs", "metallic clinks", "ringing steel hits"),
    "wood": ("wooden knocks", "wood clacks", "hollow wooden thunks"),
    "glass": ("glass clinks", "glassy tings", "crystal chimes"),
    "drum": ("drum hits", "drum thumps", "tom-tom beats"),
    "rubber": ("rubber thuds", "dull rubber bounces", "rubbery thumps"),
    "beep": ("electronic beeps", "short bleeps", "beeping tones"),
}
LAYER_WORDS: dict[str, tuple[str, ...]] = {
    "rain": ("rain", "rainfall", "drizzle", "a rain shower", "pouring rain", "falling raindrops"),
    "water": ("flowing water", "a stream", "running water", "a babbling brook", "rushing water"),
    "wind": ("wind", "gusts of wind", "a gusty breeze", "howling wind", "blowing wind"),
    "music": ("music", "a melody", "a tune", "soft background music", "a gentle melody"),
    "hum": (
        "an electrical hum",
        "buzzing",
        "mains hum",
        "a low electric buzz",
        "a transformer hum",
    ),
}


def _pick(rng: np.random.Generator, options) -> str:
    return options[int(rng.integers(len(options)))]


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def _object(rng, obj: dict) -> str:
    colour = obj["color"] + " " if rng.random() < 0.6 else ""
    noun = _pick(rng, NOUNS[obj["material"]]).format(c=colour)
    return f"{_article(noun)} {_pick(rng, MOTION_WORDS[obj['motion']])}"


def make_captions(rng: np.random.Generator, annotation: dict) -> list[str]:
    """Six captions, one per template in a seeded order, each naming every label.

    Args:
        annotation: needs ``objects`` (sounding ones), ``ambiences`` and ``prompt_layers``.
    """
    objects = annotation["objects"]
    ambiences, prompts = annotation["ambiences"], annotation["prompt_layers"]

    def objs():
        return _join([_object(rng, o) for o in objects])

    def layers(names):
        return _join([_pick(rng, LAYER_WORDS[n]) for n in names])

    def amb(lead):
        return f"{lead}{layers(ambiences)}" if ambiences else ""

    def prompt(lead):
        return f"{lead}{layers(prompts)}" if prompts else ""

    def amb_tail():
        return " in the background" if ambiences else ""

    def prompt_tail(text=" can be heard"):
        return text if prompts else ""

    materials = list(dict.fromkeys(o["material"] for o in objects))
    templates = [
        lambda: f"{_capital(objs())}{amb(', with ')}{amb_tail()}{prompt(', accompanied by ')}.",
        lambda: f"The sound of {objs()}{amb(' amid ')}{prompt('; ')}{prompt_tail()}.",
        lambda: (
            (f"{_capital(layers(ambiences))}: " if ambiences else "A quiet scene: ")
            + f"{objs()}{prompt(', over ')}."
        ),
        lambda: ", ".join(
            [_pick(rng, SOUND_WORDS[m]) for m in materials]
            + [_pick(rng, LAYER_WORDS[n]) for n in ambiences + prompts]
        ),
        lambda: (
            f"We hear {objs()}{amb('; behind it all, ')}"
            + f"{prompt(', with ')}{prompt_tail(' in the mix')}."
        ),
        lambda: (
            f"Foley of {_join([_pick(rng, SOUND_WORDS[m]) for m in materials])}"
            + f", in sync with the picture{amb('; ')}{prompt(', plus ')}."
        ),
    ]

    order = rng.permutation(len(templates))
    return [_capital(templates[i]()) for i in order]
