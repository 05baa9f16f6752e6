"""The dialects of the code examples in the seeds, one module each (see docs/api/seed-*.md):
`seed000` (BytePlus REST pattern, `/seedance/v1`), `seed001` (AI/ML API, `/v2/generate/video`),
`seed002` (reference endpoint, `/v1/bytedance/seedance-2.0/reference-to-video`), `seed004`
(generic v2 `/v2/generations` and AtlasCloud `/v1/video/generations`)."""
