"""The flat reference-to-video dialect of each::labs (seed 003): `/v1/prediction`."""
