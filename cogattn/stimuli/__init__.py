"""Stimuli: images, search arrays, foveation and log-polar transforms, speech mixtures."""
