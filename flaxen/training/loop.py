"""``flaxen.training.loop``: ``fit`` any Linen module with Optax, resumably; ``evaluate`` it.

This file only re-exports; see ``flaxen._src.training.loop``.
"""

from flaxen._src.training.loop.batches import ArrayBatches as ArrayBatches
from flaxen._src.training.loop.fit import FitResult as FitResult
from flaxen._src.training.loop.fit import TrainingDivergedError as TrainingDivergedError
from flaxen._src.training.loop.fit import fit as fit
from flaxen._src.training.loop.objectives import accuracy as accuracy
from flaxen._src.training.loop.objectives import mean_squared_error as mean_squared_error
from flaxen._src.training.loop.objectives import softmax_cross_entropy as softmax_cross_entropy
from flaxen._src.training.loop.state import FitState as FitState
from flaxen._src.training.loop.steps import evaluate as evaluate
from flaxen._src.training.loop.workdir import WorkdirError as WorkdirError
