"""Adaptive services (writes and side effects): model export, training, versions, retraining."""
