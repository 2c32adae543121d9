"""Steering a reasoner with compiled rules: the Reasoner contract, LoRA, test-time optimization, baselines."""
