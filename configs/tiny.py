"""Settings shared by every ``tiny`` preset: a few seconds of generator training, for smoke tests only."""

TINY = dict(augment={}, generator_config={})
