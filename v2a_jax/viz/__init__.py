"""Pictures and pages for people: spectrogram PNGs and the side-by-side comparison pages."""
