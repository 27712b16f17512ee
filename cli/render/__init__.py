"""What the user sees: text and JSON renderings of library results. Nothing here reads a store or runs anything."""
