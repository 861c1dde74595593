"""The demo course, its locally generated media and the simulated students (`seed_demo`)."""
