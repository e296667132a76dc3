"""The data generator behind scripts/make_data.py: formats (shared writers), sample, fullscale."""
