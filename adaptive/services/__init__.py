"""Adaptive services (writes and side effects); the model registry lives in model_registry."""
