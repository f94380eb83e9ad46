"""Template distributions: their configurations fetched from CloudFront,
kept as numbered versions (a local folder or S3), resolved for a request
and loaded back at the versions a job pinned. Imports ``program``,
``request`` and the shared modules below them."""
