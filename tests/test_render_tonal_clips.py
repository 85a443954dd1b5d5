"""experiments/render_tonal_clips.py: training clips with tonal events, as wavs."""

import soundfile as sf
from experiment_scripts import load_experiment


def test_counts_tonal_events_and_writes_only_clips_that_have_enough(tmp_path):
    rt = load_experiment("render_tonal_clips")
    ann = {"events": [{"material": "beep"}, {"material": "wood"}, {"material": "glass"}, {}]}
    assert rt.tonal_events(ann) == 2 and rt.tonal_events(ann, ("wood",)) == 1
    assert rt.tonal_events({}) == 0
    assert rt.main(["--out-dir", str(tmp_path), "--num", "2", "--first", "0", "--last", "40"]) == 0
    files = sorted(tmp_path.glob("seed*.wav"))
    assert len(files) == 2
    info = sf.info(files[0])
    assert info.samplerate == 16000 and info.subtype == "FLOAT" and info.frames > 0
