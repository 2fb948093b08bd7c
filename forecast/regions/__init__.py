"""County-level units within their province, and the engine that projects them in blocks."""
