"""Turning references (URLs, data URIs, uploads, asset ids) into checked local bytes."""
