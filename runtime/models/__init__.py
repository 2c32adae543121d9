"""Video models behind the Reasoner contract: the embedded latent and pixel models, Wan, the VQA atom's VLM, and their training."""
