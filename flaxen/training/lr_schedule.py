"""``flaxen.training.lr_schedule``: legacy learning-rate schedules (prefer Optax).

This file only re-exports; see ``flaxen._src.training.lr_schedule``.
"""

from flaxen._src.training.lr_schedule import (
  create_constant_learning_rate_schedule as create_constant_learning_rate_schedule,
)
from flaxen._src.training.lr_schedule import (
  create_cosine_learning_rate_schedule as create_cosine_learning_rate_schedule,
)
from flaxen._src.training.lr_schedule import (
  create_stepped_learning_rate_schedule as create_stepped_learning_rate_schedule,
)
