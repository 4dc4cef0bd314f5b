"""Models: the catalog, the local store, downloads, exports and the embedded Kokoro."""
