"""experiments/onset_false_positives.py: where unmatched detections fall around events."""

from experiment_scripts import load_experiment


def test_classify_puts_each_unmatched_detection_in_one_place():
    fp = load_experiment("onset_false_positives")
    events = [1.0, 2.0]
    detected = [1.01, 1.1, 1.9, 1.5, 3.0, 0.2]
    # 1.01 matches; 1.1 is 0.1 s after 1.0; 1.9 is 0.1 s before 2.0; 1.5, 3.0, 0.2 are far
    assert fp.classify(detected, events) == {"after": 1, "before": 1, "between": 3}
    assert fp.classify([0.5], []) == {"after": 0, "before": 0, "between": 1}
