"""`tfx-e2e ui`: a read-only local web app over the live ML Metadata store (runs list, run pages rendered by
pipeline.report, compare, artifact and lineage pages) on the standard library's ThreadingHTTPServer."""
