"""The embedded default: an object-centric latent video model (scene encoder, track network, renderer)."""
