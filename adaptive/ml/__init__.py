"""Django-free knowledge tracing: sequences, DKT (Keras GRU), BKT, metrics, training, artifacts.

Importing this package imports neither Django nor TensorFlow. The modules that need Keras
(``dkt``, ``training``, ``inference``) are imported only by the code that trains or scores
models (the ``ml`` Celery worker, management commands, benchmarks); ``sequences``, ``bkt``,
``metrics``, ``step`` and ``artifacts`` are NumPy-only and safe in the web process.
"""
