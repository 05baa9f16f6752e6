"""The bottom layer: records every other layer shares (a job, a stored reference, a resolved
model). Nothing here imports another reelforge package but `spec` and `errors`."""
